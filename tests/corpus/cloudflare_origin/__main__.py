"""Storefront edge: Cloudflare proxies shop.example.net to a Scaleway load balancer.

Full (strict) TLS end to end: the load balancer presents a Cloudflare Origin CA certificate, which
only Cloudflare's proxy trusts, and pulls from Cloudflare are authenticated with a client certificate.
"""
import pulumi
import pulumi_cloudflare as cloudflare
import pulumiverse_scaleway as scaleway

cfg = pulumi.Config()
zone_id = cfg.require("zone_id")
hostname = cfg.require("hostname")
tags = ["env:prod", "app:storefront"]

origin_cert = cloudflare.OriginCaCertificate(
    "origin",
    csr=cfg.require("origin_csr"),
    hostnames=[hostname],
    request_type="origin-rsa",
    requested_validity=5475,
)

cloudflare.ZoneSetting("ssl-strict", zone_id=zone_id, setting_id="ssl", value="strict")
cloudflare.AuthenticatedOriginPullsSettings("origin-pulls", zone_id=zone_id, enabled=True)

pn = scaleway.network.PrivateNetwork("shop-pn", tags=tags)
sg = scaleway.instance.SecurityGroup("shop-sg", inbound_default_policy="drop", outbound_default_policy="accept", tags=tags)
app = scaleway.instance.Server(
    "shop-app",
    type="PRO2-S",
    image="debian_bookworm",
    security_group_id=sg.id,
    private_networks=[scaleway.instance.ServerPrivateNetworkArgs(pn_id=pn.id)],
    tags=tags,
)

lb_ip = scaleway.loadbalancers.Ip("shop-lb-ip", tags=tags)
lb = scaleway.loadbalancers.LoadBalancer(
    "shop-lb",
    ip_ids=[lb_ip.id],
    type="LB-S",
    ssl_compatibility_level="ssl_compatibility_level_modern",
    private_networks=[scaleway.loadbalancers.LoadBalancerPrivateNetworkArgs(private_network_id=pn.id)],
    tags=tags,
)
backend = scaleway.loadbalancers.Backend(
    "shop-backend",
    lb_id=lb.id,
    forward_protocol="tcp",
    forward_port=8443,
    ssl_bridging=True,
    server_ips=["10.40.0.10"],
)
certificate = scaleway.loadbalancers.Certificate(
    "shop-origin-cert",
    lb_id=lb.id,
    custom_certificate=scaleway.loadbalancers.CertificateCustomCertificateArgs(
        certificate_chain=pulumi.Output.concat(origin_cert.certificate, "\n", cfg.require_secret("origin_private_key")),
    ),
)
scaleway.loadbalancers.Frontend(
    "shop-https",
    lb_id=lb.id,
    backend_id=backend.id,
    inbound_port=443,
    certificate_ids=[certificate.id],
)

cloudflare.DnsRecord("shop", zone_id=zone_id, name=hostname, type="A", content=lb_ip.ip_address, proxied=True, ttl=1)

pulumi.export("origin_expires", origin_cert.expires_on)

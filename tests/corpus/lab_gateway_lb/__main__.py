"""Lab platform: app servers on a private network behind a load balancer, egress through a public gateway."""
import pulumi
import pulumiverse_scaleway as scaleway

from lab.network import LabNetwork

cfg = pulumi.Config()
count = int(cfg.get("app_count") or 1)
tags = ["env:prod", "lab:genomics"]

net = LabNetwork("lab", tags)

private_sg = scaleway.instance.SecurityGroup("app-sg", inbound_default_policy="drop", outbound_default_policy="accept",
                                             tags=tags)
servers = []
for i in range(count):
    servers.append(scaleway.instance.Server(
        f"app-{i}", type="POP2-2C-8G", image="ubuntu_noble", security_group_id=private_sg.id,
        private_networks=[scaleway.instance.ServerPrivateNetworkArgs(pn_id=net.pn.id)], tags=tags))

lb_ip = scaleway.loadbalancers.Ip("lb-ip", tags=tags)
lb = scaleway.loadbalancers.LoadBalancer(
    "lb", ip_ids=[lb_ip.id], type="LB-S", ssl_compatibility_level="ssl_compatibility_level_intermediate",
    private_networks=[{"private_network_id": net.pn.id}], tags=tags)

backend = scaleway.LoadbalancerBackend(  # deprecated spelling
    "app-backend", lb_id=lb.id, forward_protocol="http", forward_port=8080,
    server_ips=[s.private_ips.apply(lambda ips: ips[0]["address"] if ips else "10.20.0.10") for s in servers])

http = scaleway.loadbalancers.Frontend("http", lb_id=lb.id, backend_id=backend.id, inbound_port=80)

cert = scaleway.loadbalancers.Certificate("lab-cert", lb_id=lb.id, letsencrypt={"common_name": "lab.example.org"})
https = scaleway.loadbalancers.Frontend("https", lb_id=lb.id, backend_id=backend.id, inbound_port=443,
                                        certificate_ids=[cert.id])

pulumi.export("lb_ip", lb_ip.ip_address)

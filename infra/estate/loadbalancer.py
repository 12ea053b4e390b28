"""The public load balancer: HTTPS with a certificate, port 80 that only redirects, TLS bridged to the backends."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scaleway

from estate.settings import Settings


class LoadBalancer(pulumi.ComponentResource):
    """Appendix C 2: every page and API call travels over TLS, end to end to the ingress."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        app_network_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("dpa:estate:LoadBalancer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = settings

        self.ip = scaleway.loadbalancers.Ip(
            f"{name}-ip", zone=s.zone, project_id=s.project_id, tags=s.tags, opts=child
        )
        self.lb = scaleway.loadbalancers.LoadBalancer(
            f"{name}-lb",
            name=s.name("lb"),
            type=s.lb_type,
            zone=s.zone,
            project_id=s.project_id,
            ip_ids=[self.ip.id],
            private_networks=[{"private_network_id": app_network_id}],
            ssl_compatibility_level="ssl_compatibility_level_intermediate",
            tags=s.tags,
            opts=child,
        )
        self.certificate = scaleway.loadbalancers.Certificate(
            f"{name}-certificate",
            lb_id=self.lb.id,
            name=s.name("certificate"),
            letsencrypt={"common_name": s.domain},
            opts=child,
        )
        # SSL bridging: the load balancer re-encrypts towards the ingress, so no hop carries plaintext.
        self.backend = scaleway.loadbalancers.Backend(
            f"{name}-backend",
            lb_id=self.lb.id,
            name=s.name("ingress"),
            forward_protocol="http",
            forward_port=s.lb_backend_port,
            server_ips=list(s.lb_backend_ips),
            ssl_bridging=True,
            ignore_ssl_server_verify=False,
            health_check_port=s.lb_backend_port,
            health_check_https={"uri": "/healthz", "code": 200},
            proxy_protocol="none",
            opts=child,
        )
        self.https = scaleway.loadbalancers.Frontend(
            f"{name}-https",
            lb_id=self.lb.id,
            backend_id=self.backend.id,
            name=s.name("https"),
            inbound_port=443,
            certificate_ids=[self.certificate.id],
            enable_http3=True,
            timeout_client="30s",
            opts=child,
        )
        # Port 80 exists only to send browsers to HTTPS: every request matches the redirect ACL.
        self.http_redirect = scaleway.loadbalancers.Frontend(
            f"{name}-http",
            lb_id=self.lb.id,
            backend_id=self.backend.id,
            name=s.name("http-redirect"),
            inbound_port=80,
            acls=[
                {
                    "name": "redirect-to-https",
                    "description": "every plain HTTP request is redirected to HTTPS",
                    "action": {"type": "redirect", "redirects": [{"type": "scheme", "target": "https", "code": 301}]},
                    "match": {"ip_subnets": ["0.0.0.0/0", "::/0"]},
                }
            ],
            opts=child,
        )
        self.register_outputs({"ip": self.ip.ip_address, "lbId": self.lb.id})

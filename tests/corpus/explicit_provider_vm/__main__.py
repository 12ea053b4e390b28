"""Edge VMs in two regions via explicit providers; cloud-init installs nginx and joins the tailnet."""
from pathlib import Path

import pulumi
import pulumiverse_scaleway as scaleway

config = pulumi.Config()
admin_cidr = config.require("admin_cidr")
tailscale_key = config.require("tailscale_auth_key")  # should have been require_secret
user_data = Path("cloud-init.yaml").read_text().replace("${TAILSCALE_AUTH_KEY}", tailscale_key)

paris = scaleway.Provider("paris", zone="fr-par-1", region="fr-par")
amsterdam = scaleway.Provider("amsterdam", zone="nl-ams-1")  # region implied by the zone

# An existing private network, looked up by its ID
shared_pn = scaleway.network.PrivateNetwork.get("shared-pn", "fr-par/6f3a1b2c-4d5e-4f60-9a1b-2c3d4e5f6a7b",
                                                opts=pulumi.ResourceOptions(provider=paris))

web_sg = scaleway.instance.SecurityGroup(
    "web-sg",
    inbound_default_policy="drop",
    inbound_rules=[
        {"action": "accept", "port": 80},
        {"action": "accept", "port": 443},
        {"action": "accept", "port": 22, "ip_range": admin_cidr},
    ],
    opts=pulumi.ResourceOptions(provider=paris),
)

for site, provider in (("par", paris), ("ams", amsterdam)):
    ip = scaleway.InstanceIp(f"edge-{site}-ip", opts=pulumi.ResourceOptions(provider=provider))
    scaleway.instance.Server(
        f"edge-{site}",
        type="PLAY2-NANO",
        image="ubuntu_jammy",
        ip_id=ip.id,
        security_group_id=web_sg.id if site == "par" else None,
        user_data={"cloud-init": user_data},
        private_networks=[{"pn_id": shared_pn.id}] if site == "par" else None,
        tags=["env:staging", f"site:{site}"],
        opts=pulumi.ResourceOptions(provider=provider),
    )

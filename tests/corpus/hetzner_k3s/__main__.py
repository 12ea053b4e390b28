"""k3s lab: three Hetzner servers behind a Hetzner firewall; etcd snapshots go to a Scaleway bucket."""
import pulumi
import pulumi_hcloud as hcloud
import pulumiverse_scaleway as scaleway

cfg = pulumi.Config()
location = cfg.get("location") or "fsn1"

key = hcloud.SshKey("ops", public_key=cfg.require("ssh_key"))
network = hcloud.Network("k3s", ip_range="10.10.0.0/16")
subnet = hcloud.NetworkSubnet("k3s-nodes", network_id=network.id.apply(int), type="cloud",
                              network_zone="eu-central", ip_range="10.10.1.0/24")

anywhere = ["0.0.0.0/0", "::/0"]
firewall = hcloud.Firewall(
    "k3s",
    rules=[
        hcloud.FirewallRuleArgs(direction="in", protocol="tcp", port="22", source_ips=anywhere, description="ssh"),
        hcloud.FirewallRuleArgs(direction="in", protocol="tcp", port="6443", source_ips=anywhere, description="kube api"),
        hcloud.FirewallRuleArgs(direction="in", protocol="tcp", port="80", source_ips=anywhere),
        hcloud.FirewallRuleArgs(direction="in", protocol="tcp", port="443", source_ips=anywhere),
        hcloud.FirewallRuleArgs(direction="in", protocol="icmp", source_ips=anywhere),
    ],
)

for i in range(3):
    hcloud.Server(
        f"k3s-{i}",
        server_type="cx32",
        image="ubuntu-24.04",
        location=location,
        ssh_keys=[key.id],
        firewall_ids=[firewall.id.apply(int)],
        networks=[hcloud.ServerNetworkArgs(network_id=network.id.apply(int))],
        labels={"role": "server" if i == 0 else "agent"},
    )

snapshots = scaleway.object.Bucket(
    "k3s-etcd-snapshots",
    name="k3s-lab-etcd-snapshots",
    tags={"env": "prod", "data-category": "general-information"},
)

pulumi.export("snapshot_bucket", snapshots.name)

"""A project per team: the program creates the Scaleway project and puts every resource in it by id."""
import pulumi
import pulumiverse_scaleway as scaleway

cfg = pulumi.Config()
team = cfg.require("team")
env = cfg.require("env")
tags = [f"env:{env}", f"team:{team}"]

project = scaleway.account.Project(f"{team}-project", name=f"{team}-{env}", description=f"{team} workloads ({env})")

vpc = scaleway.network.Vpc("vpc", project_id=project.id, tags=tags)
pn = scaleway.network.PrivateNetwork("apps-pn", vpc_id=vpc.id, project_id=project.id, tags=tags)

sg = scaleway.instance.SecurityGroup(
    "apps-sg",
    project_id=project.id,
    inbound_default_policy="drop",
    outbound_default_policy="accept",
    inbound_rules=[scaleway.instance.SecurityGroupInboundRuleArgs(action="accept", port=443, ip_range="0.0.0.0/0")],
    tags=tags,
)
ip = scaleway.instance.Ip("apps-ip", project_id=project.id, tags=tags)
server = scaleway.instance.Server(
    "apps",
    project_id=project.id,
    type="PLAY2-NANO",
    image="ubuntu_noble",
    ip_id=ip.id,
    security_group_id=sg.id,
    private_networks=[scaleway.instance.ServerPrivateNetworkArgs(pn_id=pn.id)],
    tags=tags,
)

bucket = scaleway.object.Bucket(
    "exports",
    name=f"{team}-{env}-exports",
    project_id=project.id,
    tags={"env": env, "team": team, "data-category": "general-information"},
)

# The team's logs go through a provider of their own, pointed at the same project.
team_provider = scaleway.Provider(f"{team}-scw", project_id=project.id, region="fr-par")
scaleway.object.Bucket(
    "logs",
    name=f"{team}-{env}-logs",
    tags={"env": env, "team": team, "data-category": "general-information"},
    opts=pulumi.ResourceOptions(provider=team_provider),
)

pulumi.export("project_id", project.id)
pulumi.export("server_ip", ip.address)

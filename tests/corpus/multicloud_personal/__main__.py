"""Homelab: a Scaleway VM, nightly backups in S3, a public photo album on GCS, DNS on Cloudflare, R2 for media."""
import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare
import pulumi_gcp as gcp
import pulumiverse_scaleway as scaleway

conf = pulumi.Config()
domain = conf.require("domain")
zone_id = conf.require("zone_id")

# --- Scaleway: the VM that runs everything
ip = scaleway.instance.Ip("vm-ip")
sg = scaleway.instance.SecurityGroup(
    "vm-sg",
    inbound_default_policy="drop",
    outbound_default_policy="accept",
    inbound_rules=[
        scaleway.instance.SecurityGroupInboundRuleArgs(action="accept", port=443, ip_range="0.0.0.0/0"),
        scaleway.instance.SecurityGroupInboundRuleArgs(action="accept", port=22, ip_range="203.0.113.7/32"),
    ],
)
vm = scaleway.InstanceServer(  # deprecated spelling
    "vm",
    type="DEV1-S",
    image="debian_bookworm",
    ip_id=ip.id,
    security_group_id=sg.id,
    tags=["env:prod", "homelab"],
)

# --- AWS: backups (us-east-1, the provider's default region)
backups = aws.s3.Bucket("homelab-backups", bucket=f"backups.{domain}", tags={"env": "prod"})
aws.s3.BucketVersioning("homelab-backups-versioning", bucket=backups.id,
                        versioning_configuration={"status": "Enabled"})
shared = aws.s3.Bucket("homelab-share", bucket=f"share.{domain}")
aws.s3.BucketAcl("homelab-share-acl", bucket=shared.id, acl="public-read")

# --- GCP: a photo album anyone can read (asia-east1)
photos = gcp.storage.Bucket("photos", location="ASIA-EAST1", uniform_bucket_level_access=True)
gcp.storage.BucketIAMMember("photos-public", bucket=photos.name, role="roles/storage.objectViewer", member="allUsers")

# --- Cloudflare: DNS (approved) and R2 (not what Appendix B approves Cloudflare for)
cloudflare.DnsRecord("apex", zone_id=zone_id, name="@", type="A", content=ip.address, proxied=True, ttl=1)
cloudflare.DnsRecord("www", zone_id=zone_id, name="www", type="CNAME", content=domain, proxied=True, ttl=1)
cloudflare.R2Bucket("media", account_id="0123456789abcdef0123456789abcdef", name="media", location="weur")

pulumi.export("ip", ip.address)
pulumi.export("photos_url", photos.url)

"""A Postgres instance with its database, user and ACL, as one component."""
from typing import Optional, Sequence

import pulumi
import pulumiverse_scaleway as scaleway


class PostgresArgs:
    def __init__(self, node_type: str, password: pulumi.Input[str], allowed_cidrs: Sequence[str],
                 ha: bool = False, private_network_id: Optional[pulumi.Input[str]] = None,
                 tags: Optional[Sequence[str]] = None):
        self.node_type = node_type
        self.password = password
        self.allowed_cidrs = allowed_cidrs
        self.ha = ha
        self.private_network_id = private_network_id
        self.tags = list(tags or [])


class Postgres(pulumi.ComponentResource):
    def __init__(self, name: str, args: PostgresArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("acme:databases:Postgres", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pn = (scaleway.databases.InstancePrivateNetworkArgs(pn_id=args.private_network_id, enable_ipam=True)
              if args.private_network_id else None)
        self.instance = scaleway.databases.Instance(
            f"{name}-rdb",
            engine="PostgreSQL-16",
            node_type=args.node_type,
            is_ha_cluster=args.ha,
            disable_backup=False,
            backup_schedule_frequency=24,
            backup_schedule_retention=7,
            user_name="admin",
            password=args.password,
            private_network=pn,
            load_balancer=scaleway.databases.InstanceLoadBalancerArgs(),
            tags=args.tags,
            opts=child,
        )
        self.database = scaleway.databases.Database(f"{name}-db", instance_id=self.instance.id, name=name, opts=child)
        if args.allowed_cidrs:
            self.acl = scaleway.databases.Acl(
                f"{name}-acl",
                instance_id=self.instance.id,
                acl_rules=[scaleway.databases.AclAclRuleArgs(ip=c, description="allowed") for c in args.allowed_cidrs],
                opts=child,
            )
        self.register_outputs({"endpoint": self.instance.endpoint_ip})

"""The DPA estate of one environment (the stack): Scaleway fr-par plus DataPacket bare metal in Paris."""

import pulumi

from estate import settings as estate_settings
from estate.backup import ColdBackup
from estate.baremetal import BareMetal
from estate.cache import Cache
from estate.database import Database
from estate.kubernetes import Kubernetes
from estate.loadbalancer import LoadBalancer
from estate.network import Network
from estate.security import Security
from estate.storage import Storage

settings = estate_settings.load()

network = Network("network", settings)
security = Security("security", settings)
load_balancer = LoadBalancer("edge", settings, app_network_id=network.app.id)
kubernetes = Kubernetes("web", settings, app_network_id=network.app.id, security_group_id=security.nodes.id)
database = Database("db", settings, data_network_id=network.data.id)
cache = Cache("cache", settings, data_network_id=network.data.id)
storage = Storage("storage", settings)
cold_backup = ColdBackup("backup", settings)
bare_metal = BareMetal("datapacket", settings)

pulumi.export("environment", settings.environment)
pulumi.export("loadBalancerIp", load_balancer.ip.ip_address)
pulumi.export("databaseInstanceId", database.instance.id)
pulumi.export("buckets", {key: bucket.name for key, bucket in storage.buckets.items()})
pulumi.export("databaseDumpsBucket", cold_backup.bucket.name)
pulumi.export("datapacketServers", sorted(bare_metal.servers))

"""Analytics on EKS: the cluster, its node role, a bastion for the data engineers, Postgres for Airflow."""
import json

import pulumi
import pulumi_aws as aws

cfg = pulumi.Config()
vpc_id = cfg.require("vpc_id")
subnet_ids = cfg.require_object("subnet_ids")
office = cfg.require("office_cidr")

assume_eks = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})
cluster_role = aws.iam.Role("analytics-eks-role", assume_role_policy=assume_eks)
aws.iam.RolePolicyAttachment("analytics-eks-policy", role=cluster_role.name,
                             policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")

# The API endpoint stays public for kubectl from laptops; no allow-list (publicAccessCidrs) is set.
cluster = aws.eks.Cluster(
    "analytics",
    role_arn=cluster_role.arn,
    version="1.31",
    vpc_config=aws.eks.ClusterVpcConfigArgs(subnet_ids=subnet_ids, endpoint_private_access=True),
)

bastion_sg = aws.ec2.SecurityGroup(
    "bastion",
    vpc_id=vpc_id,
    description="data engineers' bastion",
    ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=22, to_port=22, cidr_blocks=["0.0.0.0/0"])],
    egress=[aws.ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"])],
)

db_sg = aws.ec2.SecurityGroup("airflow-db", vpc_id=vpc_id, description="Airflow metadata database")
aws.vpc.SecurityGroupIngressRule("airflow-db-office", security_group_id=db_sg.id, ip_protocol="tcp",
                                 from_port=5432, to_port=5432, cidr_ipv4=office)
aws.ec2.SecurityGroupRule("airflow-db-https", type="ingress", security_group_id=db_sg.id, protocol="tcp",
                          from_port=443, to_port=443, cidr_blocks=["0.0.0.0/0"])

pulumi.export("cluster_endpoint", cluster.endpoint)

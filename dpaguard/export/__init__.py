"""Exports of a deployment in other tools' formats: a Terraform plan JSON that existing scanners read."""

from dpaguard.export.tfplan import to_tfplan, tfplan_json

__all__ = ["to_tfplan", "tfplan_json"]

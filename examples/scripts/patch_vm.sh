#!/usr/bin/env bash
# A team's deployment script: run a patch step on a VM through a managed run command, report its
# output, fail when the step failed, and clean up. Usage: patch_vm.sh RESOURCE_GROUP VM_NAME PACKAGE
set -euo pipefail
rg="$1" vm="$2" package="$3"
name="patch-${package}"

az vm run-command create --resource-group "$rg" --vm-name "$vm" --name "$name" \
  --script "apt-get install -y --only-upgrade ${package}" \
  --parameters "PACKAGE=${package}" --run-as-user patcher --timeout-in-seconds 600 --output none

read -r state code < <(az vm run-command show --resource-group "$rg" --vm-name "$vm" --name "$name" \
  --instance-view --query "[instanceView.executionState, instanceView.exitCode]" --output tsv | paste -sd' ')
echo "patch ${package} on ${vm}: ${state} (exit ${code})"

az vm run-command delete --resource-group "$rg" --vm-name "$vm" --name "$name" --yes --output none
[ "$state" = "Succeeded" ]

#!/usr/bin/env bash
# Grants what Bicep cannot grant here (the Microsoft Graph Bicep extension cannot be fetched):
#   1. Microsoft Graph application permissions User.Read.All and TeamsUserConfiguration.Read.All
#      (plan waits for Teams provisioning after licensing, DIALTONE_TEAMS_READINESS=graph; leave it
#      out with --no-teams-readiness) to the Function App's managed identity, and with
#      --teams-backend graph also TeamsUserConfiguration.Read.All, TeamsTelephoneNumber.ReadWrite.All
#      and TeamsPolicyUserAssign.ReadWrite.All (the graphVoice function applies voice commands
#      through Graph's /admin/teams API). `dialtone doctor` checks the same list.
#   2. the Teams Communications Administrator directory role to the hybrid worker's service principal
#      (optional with --teams-backend graph: the worker then only takes what Graph cannot do).
# Idempotent: reads the current assignments first, creates only what is missing, and reports both.
# Needs `az login` as a Privileged Role Administrator (or Global Administrator) of the tenant.
set -euo pipefail

GRAPH_APP_ID="00000003-0000-0000-c000-000000000000"
GRAPH_URL="https://graph.microsoft.com/v1.0"
APP_PERMISSIONS=("User.Read.All")
READINESS_PERMISSIONS=("TeamsUserConfiguration.Read.All")
GRAPH_BACKEND_PERMISSIONS=("TeamsUserConfiguration.Read.All" "TeamsTelephoneNumber.ReadWrite.All" "TeamsPolicyUserAssign.ReadWrite.All")
TEAMS_COMMS_ADMIN_TEMPLATE_ID="baf37b3a-610e-45da-9e62-d9d1e5e8914b"
GUID_RE='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

usage() {
  cat <<USAGE
Usage: scripts/grant-graph-permissions.sh [options]

  --function-principal-id ID   object id of the Function App's user-assigned identity
                               (output functionPrincipalId of infra/main.bicep)
  --worker-principal-id ID     object id of the worker app registration's service principal
  --worker-app-id ID           ... or its application (client) id; the service principal is looked up
  --resource-group RG          read both ids from a deployment of infra/main.bicep in RG
  --deployment-name NAME       name of that deployment (default: main)
  --teams-backend B            powershell (default) or graph: graph adds the Teams administration
                               permissions and makes the worker optional
  --no-teams-readiness         with powershell: leave out TeamsUserConfiguration.Read.All (for a
                               Function App run with DIALTONE_TEAMS_READINESS=off)
  --dry-run                    report what would change, change nothing
  -h, --help                   this text
USAGE
}

die() { echo "grant-graph-permissions: $*" >&2; exit 2; }

function_principal=""
worker_principal=""
worker_app=""
resource_group=""
deployment_name="main"
dry_run=false
teams_backend="powershell"
teams_readiness=true

while [[ $# -gt 0 ]]; do
  case "$1" in
    --function-principal-id) function_principal="${2:-}"; shift 2 ;;
    --worker-principal-id) worker_principal="${2:-}"; shift 2 ;;
    --worker-app-id) worker_app="${2:-}"; shift 2 ;;
    --resource-group) resource_group="${2:-}"; shift 2 ;;
    --deployment-name) deployment_name="${2:-}"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    --no-teams-readiness) teams_readiness=false; shift ;;
    --teams-backend) teams_backend="${2:-}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

case "$teams_backend" in
  powershell) if $teams_readiness; then APP_PERMISSIONS+=("${READINESS_PERMISSIONS[@]}"); fi ;;
  graph) APP_PERMISSIONS+=("${GRAPH_BACKEND_PERMISSIONS[@]}") ;;
  *) die "--teams-backend must be powershell or graph, got '$teams_backend'" ;;
esac

command -v az >/dev/null 2>&1 || die "the Azure CLI (az) is required"

if [[ -n "$resource_group" ]]; then
  if [[ -z "$function_principal" ]]; then
    function_principal="$(az deployment group show -g "$resource_group" -n "$deployment_name" \
      --query properties.outputs.functionPrincipalId.value -o tsv)"
  fi
  if [[ -z "$worker_principal" && -z "$worker_app" ]]; then
    worker_principal="$(az deployment group show -g "$resource_group" -n "$deployment_name" \
      --query properties.parameters.workerPrincipalId.value -o tsv)"
  fi
fi

graph_get() { az rest --method get --url "$GRAPH_URL/$1" --query "$2" -o tsv; }
graph_post() { az rest --method post --url "$GRAPH_URL/$1" --headers "Content-Type=application/json" --body "$2" --query id -o tsv; }

if [[ -z "$worker_principal" && -n "$worker_app" ]]; then
  [[ "$worker_app" =~ $GUID_RE ]] || die "--worker-app-id must be a GUID, got '$worker_app'"
  worker_principal="$(graph_get "servicePrincipals(appId='$worker_app')" id)"
fi

[[ -n "$function_principal" ]] || die "--function-principal-id (or --resource-group) is required"
if [[ "$teams_backend" == "powershell" ]]; then
  [[ -n "$worker_principal" ]] || die "--worker-principal-id, --worker-app-id (or --resource-group) is required"
fi
[[ "$function_principal" =~ $GUID_RE ]] || die "--function-principal-id must be a GUID, got '$function_principal'"
[[ -z "$worker_principal" || "$worker_principal" =~ $GUID_RE ]] || die "--worker-principal-id must be a GUID, got '$worker_principal'"

changed=0
in_place=0

report() {
  local state="$1" what="$2"
  case "$state" in
    in-place) echo "already in place: $what"; in_place=$((in_place + 1)) ;;
    granted) echo "granted: $what"; changed=$((changed + 1)) ;;
    would-grant) echo "would grant: $what"; changed=$((changed + 1)) ;;
  esac
}

# 1. Graph application permissions for the Function App identity.
graph_sp="$(graph_get "servicePrincipals(appId='$GRAPH_APP_ID')" id)"
[[ "$graph_sp" =~ $GUID_RE ]] || die "could not find the Microsoft Graph service principal in this tenant"

grant_app_permission() {
  local permission="$1" app_role what existing
  app_role="$(graph_get "servicePrincipals/$graph_sp?\$select=appRoles" \
    "appRoles[?value=='$permission' && contains(allowedMemberTypes, 'Application')].id | [0]")"
  [[ "$app_role" =~ $GUID_RE ]] || die "Microsoft Graph has no application permission $permission"
  what="Microsoft Graph $permission (application) for the Function App identity $function_principal"
  existing="$(graph_get "servicePrincipals/$function_principal/appRoleAssignments" \
    "length(value[?appRoleId=='$app_role' && resourceId=='$graph_sp'])")"
  if [[ "$existing" != "0" ]]; then
    report in-place "$what"
  elif $dry_run; then
    report would-grant "$what"
  else
    graph_post "servicePrincipals/$function_principal/appRoleAssignments" \
      "{\"principalId\":\"$function_principal\",\"resourceId\":\"$graph_sp\",\"appRoleId\":\"$app_role\"}" >/dev/null
    report granted "$what"
  fi
}

for permission in "${APP_PERMISSIONS[@]}"; do grant_app_permission "$permission"; done

# 2. Teams Communications Administrator for the worker's service principal, tenant-wide.
if [[ -n "$worker_principal" ]]; then
what="Teams Communications Administrator (directory role) for the worker service principal $worker_principal"
existing="$(graph_get "roleManagement/directory/roleAssignments?\$filter=principalId%20eq%20'$worker_principal'%20and%20roleDefinitionId%20eq%20'$TEAMS_COMMS_ADMIN_TEMPLATE_ID'" \
  "length(value[?directoryScopeId=='/'])")"
if [[ "$existing" != "0" ]]; then
  report in-place "$what"
elif $dry_run; then
  report would-grant "$what"
else
  graph_post "roleManagement/directory/roleAssignments" \
    "{\"principalId\":\"$worker_principal\",\"roleDefinitionId\":\"$TEAMS_COMMS_ADMIN_TEMPLATE_ID\",\"directoryScopeId\":\"/\"}" >/dev/null
  report granted "$what"
fi
else
  echo "skipped: Teams Communications Administrator (no worker with --teams-backend graph)"
fi

if $dry_run; then
  echo "$changed to grant, $in_place already in place (dry run: nothing changed)"
else
  echo "$changed granted, $in_place already in place"
fi

#!/bin/sh
# azd postprovision hook (azure.yaml). azd runs it after `azd provision` / `azd up` with the
# environment's values and the Bicep outputs in the environment. It changes nothing in Entra ID
# unless DIALTONE_GRANT_PERMISSIONS=true (that needs Privileged Role Administrator; see
# docs/DEPLOYMENT.md, step 3), and it never prints a secret: the outputs it lists are host names
# and ids.
set -eu

: "${DIALTONE_FUNCTION_PRINCIPAL_ID:?missing: run this through azd (azure.yaml postprovision hook)}"
: "${DIALTONE_WORKER_PRINCIPAL_ID:?missing: azd env set DIALTONE_WORKER_PRINCIPAL_ID <object id>}"

if [ "${DIALTONE_GRANT_PERMISSIONS:-false}" = "true" ]; then
  bash scripts/grant-graph-permissions.sh \
    --function-principal-id "$DIALTONE_FUNCTION_PRINCIPAL_ID" \
    --worker-principal-id "$DIALTONE_WORKER_PRINCIPAL_ID"
else
  echo "azd-postprovision: Graph permission and Teams role not granted by this hook."
  echo "  Once, as Privileged Role Administrator: scripts/grant-graph-permissions.sh --function-principal-id $DIALTONE_FUNCTION_PRINCIPAL_ID --worker-principal-id $DIALTONE_WORKER_PRINCIPAL_ID"
  echo "  or: azd env set DIALTONE_GRANT_PERMISSIONS true && azd provision"
fi

echo "azd-postprovision: the hybrid worker is installed on its own host (docs/DEPLOYMENT.md, 'Install the hybrid worker'); its settings:"
echo "  DIALTONE_SERVICEBUS_NAMESPACE=${DIALTONE_SERVICEBUS_NAMESPACE:-}"
echo "  DIALTONE_KEYVAULT_URL=${DIALTONE_KEYVAULT_URL:-}"
echo "  DIALTONE_TENANT_ID=${DIALTONE_TENANT_ID:-}"

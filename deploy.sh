#!/usr/bin/env bash
# Deploys ml-platform to the current kubectl context (or --context): namespace, the kubeconfig,
# database and API-token Secrets, the deploy/ kustomize base with image overrides, then waits
# for the rollout and prints the access URLs and the first API token. Safe to run again: every
# step creates or updates, and the database password and the tokens are kept.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: ./deploy.sh [options]

Options:
  --karmada-kubeconfig F  kubeconfig of the Karmada API server (env KARMADA_KUBECONFIG;
                          default: ./kubeconfig/karmada.kubeconfig)
  --context NAME          kubectl context of the target cluster (env KUBE_CONTEXT)
  --timeout DURATION      rollout wait per Deployment (env ROLLOUT_TIMEOUT; default: 300s)
  --skip-ui               deploy without the web UI (e.g. before its image exists)
  --dry-run               check prerequisites and print what would be applied; change nothing
  -h, --help              show this help

Environment:
  BACKEND_IMAGE           backend image (default: ml-platform:latest)
  FRONTEND_IMAGE          web UI image (default: ml-platform-ui:latest)
USAGE
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
namespace="ml-platform"
kubeconfig_secret="ml-platform-kubeconfig"
db_secret="ml-platform-db"
tokens_secret="ml-platform-api-tokens"
db_user="mlplatform"
db_name="mlplatform"
karmada_kubeconfig="${KARMADA_KUBECONFIG:-${repo_root}/kubeconfig/karmada.kubeconfig}"
kube_context="${KUBE_CONTEXT:-}"
rollout_timeout="${ROLLOUT_TIMEOUT:-300s}"
backend_image="${BACKEND_IMAGE:-ml-platform:latest}"
frontend_image="${FRONTEND_IMAGE:-ml-platform-ui:latest}"
dry_run=false
skip_ui=false

die() {
  echo "deploy: error: $*" >&2
  exit 1
}

step() {
  echo "deploy: $*"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --karmada-kubeconfig) [ $# -ge 2 ] || die "$1 needs a value"; karmada_kubeconfig="$2"; shift 2 ;;
    --karmada-kubeconfig=*) karmada_kubeconfig="${1#*=}"; shift ;;
    --context) [ $# -ge 2 ] || die "$1 needs a value"; kube_context="$2"; shift 2 ;;
    --context=*) kube_context="${1#*=}"; shift ;;
    --timeout) [ $# -ge 2 ] || die "$1 needs a value"; rollout_timeout="$2"; shift 2 ;;
    --timeout=*) rollout_timeout="${1#*=}"; shift ;;
    --dry-run) dry_run=true; shift ;;
    --skip-ui) skip_ui=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

kube() {
  if [ -n "${kube_context}" ]; then
    kubectl --context "${kube_context}" "$@"
  else
    kubectl "$@"
  fi
}

# Prints a kustomize `images:` entry for an image reference (name[:tag] or name@digest).
image_entry() {
  local base_name="$1" ref="$2" name tag=""
  if [[ "${ref}" == *@* ]]; then
    printf '  - name: %s\n    newName: %s\n    digest: %s\n' "${base_name}" "${ref%%@*}" "${ref#*@}"
    return
  fi
  name="${ref}"
  # A colon after the last slash separates the tag (a colon before it is a registry port).
  if [[ "${ref##*/}" == *:* ]]; then
    tag="${ref##*:}"
    name="${ref%:*}"
  fi
  printf '  - name: %s\n    newName: %s\n' "${base_name}" "${name}"
  if [ -n "${tag}" ]; then
    printf '    newTag: "%s"\n' "${tag}"
  fi
}

# Prints the path of directory $2 relative to directory $1 (both must exist); kustomize
# refuses absolute paths to a base.
relative_path() {
  local from to common up=""
  from="$(cd "$1" && pwd -P)"
  to="$(cd "$2" && pwd -P)"
  common="${from}"
  while [ "${common}" != "/" ] && [ "${to}" != "${common}" ] \
    && [ "${to#"${common}"/}" = "${to}" ]; do
    common="$(dirname "${common}")"
    up="../${up}"
  done
  if [ "${common}" = "/" ]; then
    printf '%s%s\n' "${up}" "${to#/}"
  elif [ "${to}" = "${common}" ]; then
    printf '%s\n' "${up:-.}"
  else
    printf '%s%s\n' "${up}" "${to#"${common}"/}"
  fi
}

# --- prerequisites -------------------------------------------------------------------------
command -v kubectl >/dev/null 2>&1 || die "kubectl was not found on PATH; install kubectl 1.27+"
[ -f "${karmada_kubeconfig}" ] && [ -r "${karmada_kubeconfig}" ] ||
  die "kubeconfig file not found or unreadable: ${karmada_kubeconfig}"
[ -s "${karmada_kubeconfig}" ] || die "kubeconfig file is empty: ${karmada_kubeconfig}"
[ -f "${repo_root}/deploy/kustomization.yaml" ] || die "missing ${repo_root}/deploy/kustomization.yaml"

step "checking that the target cluster answers${kube_context:+ (context ${kube_context})}"
if ! kube version --request-timeout=10s >/dev/null 2>&1; then
  die "the target cluster is not reachable with kubectl${kube_context:+ --context ${kube_context}};" \
    "check KUBECONFIG / --context and the network"
fi

work_dir="$(mktemp -d)"
trap 'rm -rf "${work_dir}"' EXIT
chmod 700 "${work_dir}"

# An overlay on deploy/ that only sets the images, so the base stays untouched.
overlay="${work_dir}/overlay"
mkdir "${overlay}"
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  echo "  - $(relative_path "${overlay}" "${repo_root}/deploy")"
  echo "images:"
  image_entry ml-platform "${backend_image}"
  image_entry ml-platform-ui "${frontend_image}"
  if [ "${skip_ui}" = true ]; then
    echo "patches:"
    for kind in "apps/v1 Deployment" "v1 Service"; do
      # "$patch: delete" is kustomize syntax, not a shell variable.
      # shellcheck disable=SC2016
      printf '  - patch: |-\n      $patch: delete\n      apiVersion: %s\n      kind: %s\n' \
        "${kind% *}" "${kind#* }"
      printf '      metadata:\n        name: ml-platform-frontend\n'
    done
  fi
} >"${overlay}/kustomization.yaml"
deployments=(ml-platform-postgres ml-platform-backend)
[ "${skip_ui}" = true ] || deployments+=(ml-platform-frontend)
ui_note="frontend ${frontend_image}"
[ "${skip_ui}" = true ] && ui_note="no web UI"

# --- database password: reuse the stored one (Postgres keeps the first), else generate -----
existing_password=""
existing_tokens=""
if kube get namespace "${namespace}" >/dev/null 2>&1; then
  existing_password="$(kube -n "${namespace}" get secret "${db_secret}" \
    -o 'jsonpath={.data.POSTGRES_PASSWORD}' 2>/dev/null || true)"
  existing_tokens="$(kube -n "${namespace}" get secret "${tokens_secret}" \
    -o 'jsonpath={.data.tokens}' 2>/dev/null || true)"
fi
if [ -n "${existing_password}" ]; then
  db_password="$(printf '%s' "${existing_password}" | base64 -d)" \
    || die "secret ${db_secret} holds a POSTGRES_PASSWORD that is not base64"
  password_note="kept the existing password"
else
  db_password="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  [ "${#db_password}" -eq 48 ] || die "could not generate a database password"
  password_note="generated a new password"
fi
umask 077
printf '%s' "${db_password}" >"${work_dir}/POSTGRES_PASSWORD"
printf '%s' "postgresql+psycopg://${db_user}:${db_password}@ml-platform-postgres:5432/${db_name}" \
  >"${work_dir}/DATABASE_URL"

# --- API tokens: keep the stored ones (add more with kubectl edit), else one admin token ----
if [ -n "${existing_tokens}" ]; then
  printf '%s' "${existing_tokens}" | base64 -d >"${work_dir}/tokens" \
    || die "secret ${tokens_secret} holds tokens that are not base64"
  tokens_note="kept the existing tokens"
else
  admin_token="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
  [ "${#admin_token}" -eq 64 ] || die "could not generate an API token"
  printf -- '- name: admin\n  role: admin\n  token: %s\n' "${admin_token}" >"${work_dir}/tokens"
  tokens_note="generated an admin token"
fi
first_token="$(sed -n 's/^[ -]*token: *//p' "${work_dir}/tokens" | head -n 1)"
read_tokens="kubectl -n ${namespace} get secret ${tokens_secret} -o jsonpath='{.data.tokens}' | base64 -d"

if [ "${dry_run}" = true ]; then
  step "dry run: nothing is changed. It would:"
  echo "  - create or update namespace ${namespace}"
  echo "  - create or update secret ${namespace}/${kubeconfig_secret} with karmada.kubeconfig" \
    "(${karmada_kubeconfig})"
  echo "  - create or update secret ${namespace}/${db_secret} (POSTGRES_USER=${db_user}," \
    "POSTGRES_DB=${db_name}, POSTGRES_PASSWORD and DATABASE_URL: ${password_note})"
  echo "  - create or update secret ${namespace}/${tokens_secret} with the API tokens" \
    "(${tokens_note})"
  echo "  - apply these manifests (backend ${backend_image}, ${ui_note}):"
  echo "---"
  kube kustomize "${overlay}"
  exit 0
fi

# --- apply -----------------------------------------------------------------------------------
# `create --dry-run=client -o yaml | apply -f -` creates or updates, so a second run is harmless.
step "namespace ${namespace}"
kube create namespace "${namespace}" --dry-run=client -o yaml | kube apply -f -

step "secret ${namespace}/${kubeconfig_secret}"
kube -n "${namespace}" create secret generic "${kubeconfig_secret}" \
  --from-file=karmada.kubeconfig="${karmada_kubeconfig}" \
  --dry-run=client -o yaml | kube apply -f -

step "secret ${namespace}/${db_secret} (${password_note})"
kube -n "${namespace}" create secret generic "${db_secret}" \
  --from-literal=POSTGRES_USER="${db_user}" \
  --from-literal=POSTGRES_DB="${db_name}" \
  --from-file=POSTGRES_PASSWORD="${work_dir}/POSTGRES_PASSWORD" \
  --from-file=DATABASE_URL="${work_dir}/DATABASE_URL" \
  --dry-run=client -o yaml | kube apply -f -

step "secret ${namespace}/${tokens_secret} (${tokens_note})"
kube -n "${namespace}" create secret generic "${tokens_secret}" \
  --from-file=tokens="${work_dir}/tokens" \
  --dry-run=client -o yaml | kube apply -f -

step "manifests (backend ${backend_image}, ${ui_note})"
kube apply -k "${overlay}"

for deployment in "${deployments[@]}"; do
  step "waiting for deployment/${deployment} (timeout ${rollout_timeout})"
  if ! kube -n "${namespace}" rollout status "deployment/${deployment}" --timeout="${rollout_timeout}"; then
    kube -n "${namespace}" get pods -o wide >&2 || true
    die "deployment/${deployment} did not become ready within ${rollout_timeout};" \
      "see: kubectl -n ${namespace} describe deployment/${deployment}"
  fi
done

# --- access ----------------------------------------------------------------------------------
node_ip="$(kube get nodes -o 'jsonpath={.items[0].status.addresses[?(@.type=="ExternalIP")].address}' 2>/dev/null || true)"
if [ -z "${node_ip}" ]; then
  node_ip="$(kube get nodes -o 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}' 2>/dev/null || true)"
fi
node_ip="${node_ip%% *}"
node_ip="${node_ip:-<node-ip>}"
step "ml-platform is running in namespace ${namespace}:"
[ "${skip_ui}" = true ] || echo "  web UI:  http://${node_ip}:30181/"
echo "  API:     http://${node_ip}:30180/api/v1/jobs"
echo "  health:  http://${node_ip}:30180/health"
step "every API call needs a token (USER_GUIDE.md, Access control):"
if [ -n "${first_token}" ]; then
  echo "  first API token: ${first_token}"
  echo "  try it:          curl -H \"Authorization: Bearer ${first_token}\" http://${node_ip}:30180/api/v1/jobs"
fi
echo "  all tokens:      ${read_tokens}"

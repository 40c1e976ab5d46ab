#!/usr/bin/env bash
# eksform in any CI (CircleCI, AWS CodeBuild, GitLab CI, Jenkins): one script,
# three jobs. Copy it into the repository that holds the stacks and call it
# from the CI's configuration:
#
#   eksform-ci.sh plan    plan every stack; write plan.md (Markdown for a
#                         merge-request comment) and the plan files in plans/;
#                         exit 0 (no changes) or 2 (changes), 1 on error
#   eksform-ci.sh apply   apply the plan files in plans/ in their order (keep
#                         plans/ from the plan job as the CI's artifact)
#   eksform-ci.sh drift   plan every stack; exit 2 and write drift.md when the
#                         live account differs from the specs
#
# Credentials, with no long-lived keys: eksform reads the standard AWS
# credential chain, so give the job a role the way your CI does it:
#   - AWS CodeBuild: the project's service role; nothing to set.
#   - CircleCI: an OIDC token. Set EKSFORM_ROLE_ARN and the script writes
#     $CIRCLE_OIDC_TOKEN_V2 to a file for the SDK's web-identity provider.
#   - GitLab CI: declare `id_tokens: { AWS_OIDC_TOKEN: { aud: sts.amazonaws.com } }`
#     on the job and set EKSFORM_ROLE_ARN; the same happens with that token.
# Use the plan role of `eksform bootstrap` for plan and drift, the apply role
# for apply (the role's trust policy decides which repositories and branches
# may assume it).
#
# Settings (environment): STACKS_DIR (default stacks), PLANS_DIR (default
# plans), AWS_REGION, EKSFORM (the binary, default eksform on PATH).
set -euo pipefail

STACKS_DIR="${STACKS_DIR:-stacks}"
PLANS_DIR="${PLANS_DIR:-plans}"
EKSFORM="${EKSFORM:-eksform}"

# Web identity: a CI's OIDC token exchanged by the AWS SDK itself
# (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), so no AWS CLI is needed.
use_web_identity() {
  local token="${CIRCLE_OIDC_TOKEN_V2:-${AWS_OIDC_TOKEN:-}}"
  if [ -n "${EKSFORM_ROLE_ARN:-}" ] && [ -n "$token" ]; then
    local file
    file="$(mktemp)"
    chmod 600 "$file"
    printf '%s' "$token" > "$file"
    export AWS_WEB_IDENTITY_TOKEN_FILE="$file"
    export AWS_ROLE_ARN="$EKSFORM_ROLE_ARN"
    export AWS_ROLE_SESSION_NAME="${AWS_ROLE_SESSION_NAME:-eksform-ci}"
  fi
}

# Runs a plan with --detailed-exitcode and returns its exit code, whatever
# it is (set -e must not end the script on a 2).
plan_to() {
  local markdown="$1"
  shift
  local code=0
  "$EKSFORM" plan "$STACKS_DIR" --markdown --detailed-exitcode --no-color "$@" > "$markdown" || code=$?
  return "$code"
}

job_plan() {
  "$EKSFORM" validate "$STACKS_DIR"
  rm -rf "$PLANS_DIR"
  local code=0
  plan_to plan.md --out "$PLANS_DIR" || code=$?
  case "$code" in
    0) echo "No changes. plan.md holds the comment." ;;
    2) echo "Changes planned: plan.md holds the comment, $PLANS_DIR/ the plan files to apply." ;;
    *) echo "The plan failed (exit $code)." >&2 ;;
  esac
  return "$code"
}

job_apply() {
  shopt -s nullglob
  local plans=("$PLANS_DIR"/*.plan)
  if [ ${#plans[@]} -eq 0 ]; then
    echo "No plan files in $PLANS_DIR/: nothing to apply."
    return 0
  fi
  # Numbered in reference order: a stack applies after those it refers to.
  # --auto-approve: the review of the plan was the approval; a guarded change
  # (delete, replacement) still stops without --allow-destroy.
  for plan in "${plans[@]}"; do
    echo "== eksform apply $plan"
    "$EKSFORM" apply --auto-approve --no-color "$plan"
  done
}

job_drift() {
  local code=0
  plan_to drift.md || code=$?
  case "$code" in
    0) echo "No drift: the live account matches the specs." ;;
    2) echo "Drift: drift.md holds the plan that would bring the account back to the specs." >&2 ;;
    *) echo "The drift check failed (exit $code)." >&2 ;;
  esac
  return "$code"
}

main() {
  local job="${1:-}"
  use_web_identity
  case "$job" in
    plan) job_plan ;;
    apply) job_apply ;;
    drift) job_drift ;;
    *)
      echo "usage: $0 plan|apply|drift" >&2
      return 1
      ;;
  esac
}

main "$@"

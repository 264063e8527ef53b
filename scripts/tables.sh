#!/usr/bin/env bash
# Creates the three tables (if missing) on the DynamoDB at $AWS_ENDPOINT_URL_DYNAMODB, and with
# `seed`, a demo connection and an IN_PROGRESS demo attachment.
#   scripts/tables.sh create
#   scripts/tables.sh seed TOKEN ATTACHMENT_ID...   (re-seeding resets the demo: attachments
#                                                    IN_PROGRESS, quota and demo ClientTokens forgotten)
# Table names from CONNECTIONS_TABLE, ATTACHMENTS_TABLE, IDEMPOTENCY_TABLE (defaults as the function's).
set -euo pipefail

endpoint=${AWS_ENDPOINT_URL_DYNAMODB:?AWS_ENDPOINT_URL_DYNAMODB must point at DynamoDB}
region=${AWS_REGION:-us-east-1}
connections=${CONNECTIONS_TABLE:-connections}
attachments=${ATTACHMENTS_TABLE:-attachments}
idempotency=${IDEMPOTENCY_TABLE:-idempotency}

# ddb ACTION JSON: one signed call of the DynamoDB JSON API; prints the answer, fails on an error
# other than the ones listed in $ALLOWED.
ddb() {
  local out status
  out=$(curl -sS -w '\n%{http_code}' -X POST "$endpoint" \
    --aws-sigv4 "aws:amz:$region:dynamodb" --user "${AWS_ACCESS_KEY_ID:-local}:${AWS_SECRET_ACCESS_KEY:-local}" \
    -H "Content-Type: application/x-amz-json-1.0" -H "X-Amz-Target: DynamoDB_20120810.$1" -d "$2")
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  if [ "$status" != 200 ] && ! grep -q "${ALLOWED:-^$}" <<<"$out"; then
    echo "DynamoDB $1 failed ($status): $out" >&2
    return 1
  fi
  echo "$out"
}

create_table() { # create_table NAME KEY [TTL_ATTRIBUTE]
  ALLOWED=ResourceInUseException ddb CreateTable "{
    \"TableName\": \"$1\", \"BillingMode\": \"PAY_PER_REQUEST\",
    \"AttributeDefinitions\": [{\"AttributeName\": \"$2\", \"AttributeType\": \"S\"}],
    \"KeySchema\": [{\"AttributeName\": \"$2\", \"KeyType\": \"HASH\"}]}" >/dev/null
  if [ -n "${3:-}" ]; then
    ALLOWED='TimeToLive is already enabled' ddb UpdateTimeToLive "{\"TableName\": \"$1\",
      \"TimeToLiveSpecification\": {\"Enabled\": true, \"AttributeName\": \"$3\"}}" >/dev/null
  fi
}

case "${1:-}" in
  create)
    create_table "$connections" TokenHash ExpiresAt
    create_table "$attachments" AttachmentId
    create_table "$idempotency" IdempotencyKey ExpiresAt
    ;;
  seed)
    token=$2
    shift 2
    hash=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
    expires=$(( $(date +%s) + 86400 ))
    ddb PutItem "{\"TableName\": \"$connections\", \"Item\": {
      \"TokenHash\": {\"S\": \"$hash\"}, \"ParticipantId\": {\"S\": \"demo-participant\"},
      \"ContactId\": {\"S\": \"demo-contact\"}, \"ExpiresAt\": {\"N\": \"$expires\"}}}" >/dev/null
    # The demo starts afresh: the contact's whole quota, and no memory of the ClientTokens the
    # README and events/ use, so that the printed curl line answers 200 and then 409 again.
    for key in QUOTA#demo-contact $(for client_token in demo-1 demo-2 demo-3 rest-1; do
      echo "IDEMPOTENCY#demo-participant#$(printf '%s' "$client_token" | sha256sum | cut -d' ' -f1)"
    done); do
      ddb DeleteItem "{\"TableName\": \"$idempotency\", \"Key\": {\"IdempotencyKey\": {\"S\": \"$key\"}}}" >/dev/null
    done
    for attachment in "$@"; do
      ddb PutItem "{\"TableName\": \"$attachments\", \"Item\": {
        \"AttachmentId\": {\"S\": \"$attachment\"}, \"ParticipantId\": {\"S\": \"demo-participant\"},
        \"ContactId\": {\"S\": \"demo-contact\"}, \"Status\": {\"S\": \"IN_PROGRESS\"},
        \"AttachmentName\": {\"S\": \"demo.txt\"}, \"ContentType\": {\"S\": \"text/plain\"}}}" >/dev/null
    done
    ;;
  *)
    echo "usage: $0 create | seed TOKEN ATTACHMENT_ID..." >&2
    exit 2
    ;;
esac

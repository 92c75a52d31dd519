#!/usr/bin/env bash
# Compile and lint the Bicep templates in infra/ with a pinned Bicep CLI restored from NuGet.
# Usage: scripts/bicep.sh install|build|lint
set -euo pipefail

BICEP_VERSION="0.49.2"
BICEP_PACKAGE="Azure.Bicep.CommandLine.linux-x64"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BICEP="$TOOLS/bin/bicep"
INFRA="$ROOT/infra"
OUT="$INFRA/build"

die() { echo "bicep.sh: $*" >&2; exit 1; }

installed_version() {
  [[ -x "$BICEP" ]] || return 1
  "$BICEP" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1
}

install_bicep() {
  if [[ "$(installed_version || true)" == "$BICEP_VERSION" ]]; then
    return 0
  fi
  command -v dotnet >/dev/null 2>&1 || die "dotnet is needed to restore $BICEP_PACKAGE from NuGet"
  local project="$TOOLS/bicep-restore"
  local packages="$TOOLS/nuget"
  mkdir -p "$project" "$packages" "$TOOLS/bin"
  # A throw-away project: the only way to make `dotnet restore` fetch a tools-only package.
  cat >"$project/bicep-restore.csproj" <<CSPROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>netstandard2.0</TargetFramework>
    <NoWarn>\$(NoWarn);NU1701</NoWarn>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="$BICEP_PACKAGE" Version="$BICEP_VERSION" />
  </ItemGroup>
</Project>
CSPROJ
  echo "bicep.sh: restoring $BICEP_PACKAGE $BICEP_VERSION from NuGet" >&2
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
    dotnet restore "$project/bicep-restore.csproj" --packages "$packages" >&2 \
    || die "dotnet restore of $BICEP_PACKAGE $BICEP_VERSION failed"
  local lower
  lower="$(echo "$BICEP_PACKAGE" | tr '[:upper:]' '[:lower:]')"
  local source="$packages/$lower/$BICEP_VERSION/tools/bicep"
  [[ -f "$source" ]] || die "restored package has no tools/bicep at $source"
  cp "$source" "$BICEP"
  chmod +x "$BICEP"
  [[ "$(installed_version || true)" == "$BICEP_VERSION" ]] \
    || die "installed bicep does not report version $BICEP_VERSION"
  echo "bicep.sh: installed $("$BICEP" --version)" >&2
}

bicep_files() {
  find "$INFRA" -path "$OUT" -prune -o -type f -name '*.bicep' -print | sort
}

bicepparam_files() {
  find "$INFRA" -path "$OUT" -prune -o -type f -name '*.bicepparam' -print | sort
}

# Bicep prints diagnostics as "<file>(line,col) : Warning|Error <code>: ...".
has_diagnostics() {
  grep -Eq '\) : (Warning|Error) ' "$1"
}

build() {
  # Start empty so a failed build never leaves an older main.json for the tests to read.
  rm -rf "$OUT"
  mkdir -p "$OUT"
  local failed=0 file rel target log
  log="$(mktemp)"
  trap 'rm -f "$log"' RETURN
  while IFS= read -r file; do
    rel="${file#"$INFRA"/}"
    target="$OUT/${rel%.bicep}.json"
    mkdir -p "$(dirname "$target")"
    if ! "$BICEP" build "$file" --outfile "$target" >"$log" 2>&1 || has_diagnostics "$log"; then
      echo "FAIL build $rel" >&2; cat "$log" >&2; failed=1
    else
      echo "ok   build $rel -> ${target#"$ROOT"/}"
    fi
  done < <(bicep_files)
  while IFS= read -r file; do
    rel="${file#"$INFRA"/}"
    target="$OUT/${rel%.bicepparam}.parameters.json"
    mkdir -p "$(dirname "$target")"
    if ! "$BICEP" build-params "$file" --outfile "$target" >"$log" 2>&1 || has_diagnostics "$log"; then
      echo "FAIL build-params $rel" >&2; cat "$log" >&2; failed=1
    else
      echo "ok   build-params $rel -> ${target#"$ROOT"/}"
    fi
  done < <(bicepparam_files)
  return "$failed"
}

lint() {
  local failed=0 file rel log
  log="$(mktemp)"
  trap 'rm -f "$log"' RETURN
  while IFS= read -r file; do
    rel="${file#"$INFRA"/}"
    # Exit code alone is not enough: warnings leave it at 0, and every finding must fail CI.
    if ! "$BICEP" lint "$file" >"$log" 2>&1 || has_diagnostics "$log"; then
      echo "FAIL lint $rel" >&2; cat "$log" >&2; failed=1
    else
      echo "ok   lint $rel"
    fi
  done < <(bicep_files; bicepparam_files)
  return "$failed"
}

case "${1:-}" in
  install) install_bicep ;;
  build) install_bicep; build ;;
  lint) install_bicep; lint ;;
  *) die "usage: scripts/bicep.sh install|build|lint" ;;
esac

#!/usr/bin/env bash
# Installs real PowerShell 7 (the NuGet global tool) for the real-pwsh suite and prints the path of
# pwsh.dll, the real binary (the tool's `pwsh` is a launcher whose child survives a kill of its
# pid: docs/PWSH-PROTOCOL.md). Cached under $DIALTONE_PWSH_CACHE (default ~/.cache/dialtone/pwsh);
# a second run is a no-op. Needs the .NET 10 SDK and NuGet.
set -euo pipefail
version="${DIALTONE_PWSH_VERSION:-7.6.9}"
cache="${DIALTONE_PWSH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dialtone/pwsh}"
dir="$cache/$version"
dll="$dir/.store/powershell/$version/powershell/$version/tools/net10.0/any/unix/pwsh.dll"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null; then
  echo "install-pwsh: the .NET SDK (10.x) is needed: install dotnet-sdk-10.0" >&2
  exit 1
fi
if [[ ! -f "$dll" ]]; then
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/.install.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "install-pwsh: dotnet tool install PowerShell $version into $dir" >&2
  if ! dotnet tool install --tool-path "$tmp" PowerShell --version "$version" >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2; rm -f "$tmp.log"
    exit 1
  fi
  rm -f "$tmp.log"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  trap - EXIT
fi
if [[ ! -f "$dll" ]]; then
  echo "install-pwsh: $dll is missing after the install" >&2
  exit 1
fi
echo "$dll"

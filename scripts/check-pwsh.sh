#!/usr/bin/env bash
# Checks the PowerShell host without pwsh: builds tools/pscheck (System.Management.Automation from
# NuGet), runs its static rules on worker/pwsh, proves each rule bites on tools/pscheck/fixtures/bad
# and on a violation added to a copy of host.ps1, then runs the in-process protocol test.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tool=tools/pscheck
out=$tool/bin/out
allow=$tool/allowed-commands.txt
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null; then
  echo "check-pwsh: the .NET SDK (10.x) is needed: install dotnet-sdk-10.0" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "check-pwsh: building $tool"
if ! dotnet build "$tool/pscheck.csproj" -c Release -o "$out" --nologo -v quiet >"$work/build.log" 2>&1; then
  cat "$work/build.log" >&2
  exit 1
fi
pscheck() { dotnet "$out/pscheck.dll" "$@"; }

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "  ✓ $1"; }
fail() { failed=$((failed + 1)); echo "  ✗ $1"; }

# expect_finding NAME FILE EXPECTED: the checker must fail on FILE and print FILE:EXPECTED.
expect_finding() {
  local name=$1 file=$2 expected=$3 output status=0
  output="$(pscheck check --allow "$allow" "$file" 2>&1)" || status=$?
  if [[ $status -eq 1 && "$output" == *"$file:$expected"* ]]; then
    pass "$name"
  else
    fail "$name: expected exit 1 and '$file:$expected', got exit $status:"
    printf '%s\n' "$output" | sed 's/^/      /'
  fi
}

echo "check-pwsh: static rules on worker/pwsh"
if output="$(pscheck check --allow "$allow" worker/pwsh 2>&1)"; then
  pass "worker/pwsh passes ($(printf '%s' "$output" | tail -n 1))"
else
  fail "worker/pwsh has findings:"
  printf '%s\n' "$output" | sed 's/^/      /'
fi

echo "check-pwsh: each bad fixture fails with its expected message"
for fixture in "$tool"/fixtures/bad/*.ps1; do
  expected="$(sed -n '1s/^# expect: //p' "$fixture")"
  if [[ -z "$expected" ]]; then
    fail "$fixture has no '# expect: LINE:COL: message' first line"
    continue
  fi
  expect_finding "$(basename "$fixture")" "$fixture" "$expected"
done

echo "check-pwsh: a violation added to a copy of host.ps1 fails"
lines=$(wc -l <worker/pwsh/host.ps1)
mutate() {
  local name=$1 statement=$2 expected=$3 copy="$work/$1/host.ps1"
  mkdir -p "$work/$name"
  { cat worker/pwsh/host.ps1; printf '%s\n' "$statement"; } >"$copy"
  expect_finding "host.ps1 + $statement" "$copy" "$((lines + 1)):$expected"
}
mutate invoke-expression 'Invoke-Expression $line' "1: forbidden command 'Invoke-Expression': text must never be evaluated as script"
mutate iex 'iex $line' "1: forbidden command 'iex' (Invoke-Expression): text must never be evaluated as script"
mutate add-type 'Add-Type -TypeDefinition $line' "1: forbidden command 'Add-Type': no code may be compiled at run time"
mutate scriptblock '$null = [scriptblock]::Create($line)' "9: [scriptblock]::Create is forbidden: it builds a script block from text"
mutate request-name '& $line' "1: dynamic invocation '& \$line': only a local variable assigned from Get-Command -CommandType Cmdlet, Function may be invoked"
mutate command-info-outside '& $commandInfo' "1: dynamic invocation '& \$commandInfo': only a local variable assigned from Get-Command -CommandType Cmdlet, Function may be invoked"
mutate start-process 'Start-Process pwsh' "1: command 'Start-Process' is not in allowed-commands.txt"

echo "check-pwsh: protocol test (host.ps1 in-process against tools/pscheck/stubs)"
if pscheck protocol --host worker/pwsh/host.ps1 --stubs "$tool/stubs/TeamsStubs.psm1"; then
  pass "protocol test"
else
  fail "protocol test"
fi

echo "check-pwsh: $passed passed, $failed failed"
[[ $failed -eq 0 ]]

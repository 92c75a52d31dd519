#!/bin/sh
# The worker's "pwsh" in compose.yaml (DIALTONE_PWSH_PATH): the Teams stand-in, which speaks the
# worker's JSON-lines protocol (docs/PWSH-PROTOCOL.md) and forwards each cmdlet to the Teams
# simulator at DIALTONE_TEAMS_SIM_URL. The worker passes pwsh's own arguments
# (-NoLogo -NoProfile -NonInteractive -File host.ps1); the stand-in needs none of them.
exec node --import tsx /app/sandbox/teams-sim/pwsh-standin.ts

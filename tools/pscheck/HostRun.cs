using System.Collections;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text.Json;

namespace PsCheck;

/// <summary>
/// One run of host.ps1 in an in-process runspace, as `pwsh -File` would run it: its
/// [Console]::In is fed the request lines, its [Console]::Out and [Console]::Error are captured.
/// </summary>
public sealed class HostRun
{
    public required IReadOnlyList<string> StdoutLines { get; init; }
    public required string Stdout { get; init; }
    public required string Stderr { get; init; }
    /// <summary>What the script wrote to its own pipeline: pwsh would print it on stdout.</summary>
    public required Collection<PSObject> PipelineOutput { get; init; }
    public required IReadOnlyList<(string Cmdlet, Hashtable Parameters)> Calls { get; init; }

    public static HostRun Start(string hostPath, string stubsPath, IEnumerable<string> lines, bool skipImport)
    {
        var iss = InitialSessionState.CreateDefault2();
        iss.Commands.Add(new SessionStateCmdletEntry("ConvertTo-Json", typeof(ConvertToJsonCommand), null));
        iss.Commands.Add(new SessionStateCmdletEntry("ConvertFrom-Json", typeof(ConvertFromJsonCommand), null));
        iss.ImportPSModule([Path.GetFullPath(stubsPath)]);

        var (savedIn, savedOut, savedError) = (Console.In, Console.Out, Console.Error);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Environment.SetEnvironmentVariable("DIALTONE_PWSH_SKIP_IMPORT", skipImport ? "1" : null);
        try
        {
            Console.SetIn(new StringReader(string.Concat(lines.Select(l => l + "\n"))));
            Console.SetOut(stdout);
            Console.SetError(stderr);
            using var ps = PowerShell.Create(iss);
            ps.AddCommand(Path.GetFullPath(hostPath));
            var output = ps.Invoke();
            foreach (var error in ps.Streams.Error) stderr.WriteLine($"(error stream) {error}");

            ps.Commands.Clear();
            ps.AddCommand("Get-StubCall");
            var calls = ps.Invoke().Select(c => ((string)c.Properties["Cmdlet"].Value, (Hashtable)c.Properties["Parameters"].Value)).ToList();
            var text = stdout.ToString();
            return new HostRun
            {
                Stdout = text,
                StdoutLines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries),
                Stderr = stderr.ToString(),
                PipelineOutput = output,
                Calls = calls,
            };
        }
        finally
        {
            Console.SetIn(savedIn);
            Console.SetOut(savedOut);
            Console.SetError(savedError);
            Environment.SetEnvironmentVariable("DIALTONE_PWSH_SKIP_IMPORT", null);
        }
    }

    /// <summary>The response line whose id is <paramref name="id"/> (null: the id-less protocol errors, in order).</summary>
    public JsonElement Response(string id) => Responses().Single(r => r.TryGetProperty("id", out var v) && v.ValueKind == JsonValueKind.String && v.GetString() == id);

    public IReadOnlyList<JsonElement> Responses() => StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).Where(r => r.TryGetProperty("id", out _)).ToList();

    public IEnumerable<Hashtable> CallsTo(string cmdlet) => Calls.Where(c => c.Cmdlet == cmdlet).Select(c => c.Parameters);
}

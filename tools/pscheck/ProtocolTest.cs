using System.Management.Automation;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace PsCheck;

/// <summary>docs/PWSH-PROTOCOL.md as a specification of host.ps1, run against stub Teams cmdlets.</summary>
public static class ProtocolTest
{
    private const string AppId = "11111111-2222-3333-4444-555555555555";
    private const string TenantId = "66666666-7777-8888-9999-000000000000";

    public static int Run(string hostPath, string stubsPath)
    {
        var password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        var wrongPassword = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        var (pfxBase64, thumbprint) = SelfSignedPfx(password);
        string Req(string id, string cmdlet, object parameters, object? certificate = null) =>
            JsonSerializer.Serialize(certificate is null
                ? new Dictionary<string, object?> { ["id"] = id, ["cmdlet"] = cmdlet, ["parameters"] = parameters }
                : new Dictionary<string, object?> { ["id"] = id, ["cmdlet"] = cmdlet, ["parameters"] = parameters, ["certificate"] = certificate });
        var connectParameters = new { ApplicationId = AppId, TenantId };

        var run = HostRun.Start(hostPath, stubsPath, [
            Req("1", "Connect-MicrosoftTeams", connectParameters, new { pfxBase64, password }),
            Req("2", "Get-CsOnlineUser", new { Identity = "user-1" }),
            Req("3", "Get-CsPhoneNumberAssignment", new { AssignedPstnTargetId = "user-1" }),
            Req("4", "Get-CsPhoneNumberAssignment", new { AssignedPstnTargetId = "nobody" }),
            Req("5", "Set-CsPhoneNumberAssignment", new { Identity = "user-1", PhoneNumber = "+31201234001", PhoneNumberType = "DirectRouting" }),
            Req("6", "Grant-CsTenantDialPlan", new Dictionary<string, object?> { ["Identity"] = "user-1", ["PolicyName"] = null }),
            Req("7", "Remove-CsPhoneNumberAssignment", new { Identity = "user-1", RemoveAll = true }),
            Req("8", "Set-CsPhoneNumberAssignment", new { Identity = "user-2", PhoneNumber = "+31201234003", PhoneNumberType = "DirectRouting" }),
            Req("9", "Get-CsOnlineUser", new { Identity = "missing" }),
            Req("10", "Get-StubCall", new { }),
            Req("11", "Invoke-Expression", new { Command = "whoami" }),
            Req("12", "Get-CsOnlineUser", new { Identity = "user-1", ErrorAction = "Continue" }),
            Req("13", "Get-CsOnlineUser", new { Ident = "user-1" }),
            Req("14", "Connect-MicrosoftTeams", new { ApplicationId = AppId, TenantId, Certificate = "x" }, new { pfxBase64, password }),
            Req("15", "Connect-MicrosoftTeams", connectParameters),
            Req("16", "Connect-MicrosoftTeams", connectParameters, new { pfxBase64, password = wrongPassword }),
            "this is not json",
            """{"cmdlet":"Get-CsOnlineUser","parameters":{"Identity":"user-1"}}""",
            "",
            Req("17", "Get-CsOnlineUser", new { Identity = "user-3" }),
            Req("18", "Exit", new { }),
            Req("19", "Get-CsOnlineUser", new { Identity = "after-exit" }),
        ], skipImport: true);

        var spec = new Spec();
        if (Environment.GetEnvironmentVariable("PSCHECK_DEBUG") == "1") Console.WriteLine($"stdout:\n{run.Stdout}\nstderr:\n{run.Stderr}");
        spec.It("writes the ready line first", () =>
        {
            var ready = JsonDocument.Parse(run.StdoutLines[0]).RootElement;
            Spec.Equal("ready", ready.GetProperty("type").GetString());
            Spec.Equal(1, ready.GetProperty("protocol").GetInt32());
            Spec.Equal("dialtone-pwsh", ready.GetProperty("host").GetString());
            Spec.True(ready.GetProperty("pid").GetInt32() > 0, "pid is a process id");
        });
        spec.It("answers each of the 21 lines before Exit with one JSON line and writes nothing else to stdout", () =>
        {
            Spec.Equal(22, run.StdoutLines.Count);
            foreach (var line in run.StdoutLines.Skip(1))
            {
                var response = JsonDocument.Parse(line).RootElement;
                Spec.True(response.TryGetProperty("ok", out _) && response.TryGetProperty("durationMs", out _), $"a response: {line}");
            }
        });
        spec.It("writes nothing to the script's own output, which pwsh would print on stdout", () => Spec.Equal(0, run.PipelineOutput.Count));
        spec.It("connects with an X509Certificate2 built in memory from the PFX and its password", () =>
        {
            var call = run.CallsTo("Connect-MicrosoftTeams").First();
            var certificate = (X509Certificate2)(call["Certificate"] is PSObject wrapped ? wrapped.BaseObject : call["Certificate"])!;
            Spec.Equal(thumbprint, certificate.Thumbprint);
            Spec.True(certificate.HasPrivateKey, "the certificate carries its private key");
            Spec.Equal(AppId, call["ApplicationId"]);
            Spec.Equal(TenantId, call["TenantId"]);
        });
        spec.It("answers connect with result null, so nothing about the credential comes back", () => Ok(run.Response("1"), "null"));
        spec.It("never writes the PFX or its passwords to stdout or stderr", () =>
        {
            foreach (var output in new[] { run.Stdout, run.Stderr })
            {
                Spec.True(!output.Contains(password) && !output.Contains(wrongPassword), "no password");
                for (var i = 0; i + 24 <= pfxBase64.Length; i += 24) Spec.True(!output.Contains(pfxBase64.Substring(i, 24)), $"no PFX chunk at {i}");
            }
        });
        spec.It("sends a cmdlet's console writes to stderr instead of stdout", () =>
        {
            Spec.True(run.Stderr.Contains("stub: connected (console write)"), "on stderr");
            Spec.True(!run.Stdout.Contains("stub:"), "not on stdout");
        });
        spec.It("returns Get-CsOnlineUser with policy objects, one-element arrays, nulls and non-ASCII text intact", () => Ok(run.Response("2"),
            """{"Identity":"user-1","UserPrincipalName":"zoe.muller@contoso.example","DisplayName":"Zoë Müller","LineURI":"tel:+31201234001","EnterpriseVoiceEnabled":true,"FeatureTypes":["PhoneSystem"],"OnlineVoiceRoutingPolicy":{"Authority":"Tenant","Name":"VRP-NL"},"TenantDialPlan":null}"""));
        spec.It("returns Get-CsPhoneNumberAssignment as an array when it finds one row", () => Ok(run.Response("3"),
            """[{"TelephoneNumber":"+31201234001","NumberType":"DirectRouting","AssignedPstnTargetId":"user-1","PstnAssignmentStatus":"UserAssigned"}]"""));
        spec.It("returns Get-CsPhoneNumberAssignment as an empty array when it finds none", () => Ok(run.Response("4"), "[]"));
        spec.It("splats the parameters of Set-CsPhoneNumberAssignment exactly as sent, with -ErrorAction Stop", () =>
        {
            Ok(run.Response("5"), "null");
            var call = run.CallsTo("Set-CsPhoneNumberAssignment").First();
            Spec.Equal("ErrorAction=Stop, Identity=user-1, PhoneNumber=+31201234001, PhoneNumberType=DirectRouting", Describe(call));
        });
        spec.It("passes a JSON null as $null", () =>
        {
            var call = run.CallsTo("Grant-CsTenantDialPlan").Single();
            Spec.True(call.ContainsKey("PolicyName") && call["PolicyName"] is null, "PolicyName bound to $null");
        });
        spec.It("passes true to a switch", () =>
        {
            var call = run.CallsTo("Remove-CsPhoneNumberAssignment").Single();
            Spec.True(call["RemoveAll"] is SwitchParameter { IsPresent: true }, "RemoveAll present");
        });
        spec.It("reports a cmdlet's terminating error with its type, message, category and fully qualified id", () => Failed(run.Response("8"),
            """{"type":"System.InvalidOperationException","message":"Telephone Number '+31201234003' has already been assigned to another user","category":"InvalidOperation","fullyQualifiedErrorId":"BadRequest,Set-CsPhoneNumberAssignment"}"""));
        spec.It("turns a non-terminating error into a failure with -ErrorAction Stop", () => Failed(run.Response("9"),
            """{"type":"System.InvalidOperationException","message":"Management object not found for identity 'missing'.","category":"ObjectNotFound","fullyQualifiedErrorId":"NotFound,Get-CsOnlineUser"}"""));
        spec.It("refuses a command that exists but is not on the allow-list", () => Failed(run.Response("10"),
            """{"type":"Dialtone.CmdletNotAllowed","message":"The cmdlet 'Get-StubCall' is not on the host's allow-list."}"""));
        spec.It("refuses Invoke-Expression as a cmdlet", () => Failed(run.Response("11"),
            """{"type":"Dialtone.CmdletNotAllowed","message":"The cmdlet 'Invoke-Expression' is not on the host's allow-list."}"""));
        spec.It("refuses a parameter that is not on the cmdlet's list, common parameters included", () => Failed(run.Response("12"),
            """{"type":"Dialtone.ParameterNotAllowed","message":"Parameter 'ErrorAction' is not allowed for Get-CsOnlineUser; allowed: Identity, Filter, AccountType, Properties, ResultSize, SkipUserPolicies."}"""));
        spec.It("refuses an abbreviated parameter name that the binder would accept", () => Failed(run.Response("13"),
            """{"type":"Dialtone.ParameterNotAllowed","message":"Parameter 'Ident' is not allowed for Get-CsOnlineUser; allowed: Identity, Filter, AccountType, Properties, ResultSize, SkipUserPolicies."}"""));
        spec.It("refuses a certificate among the connect parameters", () => Failed(run.Response("14"),
            """{"type":"Dialtone.ParameterNotAllowed","message":"Parameter 'Certificate' is not allowed for Connect-MicrosoftTeams; allowed: ApplicationId, TenantId."}"""));
        spec.It("answers a connect without a certificate with a ProtocolError naming the field", () => Failed(run.Response("15"),
            """{"type":"Dialtone.ProtocolError","message":"Connect-MicrosoftTeams needs certificate.pfxBase64 (base64 PKCS#12)."}"""));
        spec.It("answers a connect with the wrong password with the certificate error, before the cmdlet runs", () =>
        {
            var error = run.Response("16").GetProperty("error");
            Spec.Equal(typeof(CryptographicException).FullName, error.GetProperty("type").GetString());
            Spec.Equal("The certificate data cannot be read with the provided password, the password may be incorrect.", error.GetProperty("message").GetString());
            Spec.Equal(1, run.CallsTo("Connect-MicrosoftTeams").Count());
        });
        spec.It("answers a line that is not JSON, one without an id and an empty one with id-less ProtocolErrors", () =>
        {
            var errors = run.Responses().Where(r => r.GetProperty("id").ValueKind == JsonValueKind.Null).Select(r => r.GetProperty("error")).ToList();
            Spec.Equal(3, errors.Count);
            Spec.True(errors.All(e => e.GetProperty("type").GetString() == "Dialtone.ProtocolError"), "all ProtocolError");
            Spec.True(errors[0].GetProperty("message").GetString()!.StartsWith("The request line is not JSON: "), "names the JSON failure");
            Spec.Equal("The request has no id: id must be a non-empty string.", errors[1].GetProperty("message").GetString());
            Spec.Equal("The request line is empty.", errors[2].GetProperty("message").GetString());
        });
        spec.It("keeps serving requests after protocol errors", () => Spec.Equal("user-3", run.Response("17").GetProperty("result").GetProperty("Identity").GetString()));
        spec.It("disconnects on Exit, answers it and reads no further line", () =>
        {
            Ok(run.Response("18"), "null");
            Spec.Equal("Disconnect-MicrosoftTeams", run.Calls[^1].Cmdlet);
            Spec.True(!run.Stdout.Contains("\"19\""), "request 19 unanswered");
            Spec.True(!run.CallsTo("Get-CsOnlineUser").Any(c => (string?)c["Identity"] == "after-exit"), "request 19 not run");
        });

        var eof = HostRun.Start(hostPath, stubsPath, [Req("1", "Get-CsOnlineUser", new { Identity = "user-1" })], skipImport: true);
        spec.It("disconnects and ends when stdin closes without Exit", () =>
        {
            Spec.Equal(2, eof.StdoutLines.Count);
            Spec.Equal("Get-CsOnlineUser,Disconnect-MicrosoftTeams", string.Join(",", eof.Calls.Select(c => c.Cmdlet)));
        });

        var (openPfx, openThumbprint) = SelfSignedPfx(null);
        var passwordless = HostRun.Start(hostPath, stubsPath, [Req("1", "Connect-MicrosoftTeams", connectParameters, new Dictionary<string, object?> { ["pfxBase64"] = openPfx, ["password"] = null })], skipImport: true);
        spec.It("connects with a PFX that has no password when password is null", () =>
        {
            Ok(passwordless.Response("1"), "null");
            var call = passwordless.CallsTo("Connect-MicrosoftTeams").Single();
            var certificate = (X509Certificate2)(call["Certificate"] is PSObject wrapped ? wrapped.BaseObject : call["Certificate"])!;
            Spec.Equal(openThumbprint, certificate.Thumbprint);
        });

        var noModule = HostRun.Start(hostPath, stubsPath, [Req("1", "Get-CsOnlineUser", new { Identity = "user-1" })], skipImport: false);
        spec.It("exits before the ready line, saying why on stderr, when MicrosoftTeams cannot be imported", () =>
        {
            Spec.Equal(0, noModule.StdoutLines.Count);
            Spec.True(noModule.Stderr.Contains("dialtone-pwsh: Import-Module MicrosoftTeams failed: "), $"stderr: {noModule.Stderr}");
        });

        return spec.Report();
    }

    private static void Ok(JsonElement response, string expectedResult)
    {
        Spec.True(response.GetProperty("ok").GetBoolean(), $"ok: {response}");
        Spec.Equal(expectedResult, response.GetProperty("result").GetRawText());
        Spec.True(response.GetProperty("durationMs").GetInt64() >= 0, "durationMs");
    }

    private static void Failed(JsonElement response, string expectedError)
    {
        Spec.True(!response.GetProperty("ok").GetBoolean(), $"not ok: {response}");
        Spec.Equal(expectedError, response.GetProperty("error").GetRawText());
    }

    private static string Describe(System.Collections.Hashtable parameters) =>
        string.Join(", ", parameters.Keys.Cast<string>().Order(StringComparer.Ordinal).Select(k => $"{k}={parameters[k]}"));

    private static (string PfxBase64, string Thumbprint) SelfSignedPfx(string? password)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=dialtone-pscheck", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return (Convert.ToBase64String(password is null ? certificate.Export(X509ContentType.Pfx) : certificate.Export(X509ContentType.Pfx, password)), certificate.Thumbprint);
    }
}

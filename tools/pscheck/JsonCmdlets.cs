using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text;
using System.Text.Json;

namespace PsCheck;

// NuGet serves System.Management.Automation but not Microsoft.PowerShell.Commands.Utility, where
// pwsh's ConvertTo-Json / ConvertFrom-Json live. These stand-ins give the protocol test the same
// parameters and the behaviour host.ps1 relies on; pwsh's own cmdlets run in production.

[Cmdlet(VerbsData.ConvertTo, "Json")]
public sealed class ConvertToJsonCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowNull]
    public object? InputObject { get; set; }

    [Parameter] public int Depth { get; set; } = 2;
    [Parameter] public SwitchParameter Compress { get; set; }
    [Parameter] public SwitchParameter AsArray { get; set; }
    [Parameter] public SwitchParameter EnumsAsStrings { get; set; }

    private readonly List<object?> items = [];

    protected override void ProcessRecord() => items.Add(InputObject);

    protected override void EndProcessing()
    {
        object? value = AsArray || items.Count > 1 ? items.ToArray() : items.FirstOrDefault();
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = !Compress, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, value, 0);
        }
        WriteObject(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private void Write(Utf8JsonWriter writer, object? value, int depth)
    {
        if (value is PSObject pso)
        {
            if (pso.BaseObject is PSCustomObject)
            {
                WriteProperties(writer, pso, depth);
                return;
            }
            value = pso.BaseObject;
        }
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                return;
            case string s:
                writer.WriteStringValue(s);
                return;
            case char c:
                writer.WriteStringValue(c.ToString());
                return;
            case bool b:
                writer.WriteBooleanValue(b);
                return;
            case SwitchParameter sw:
                writer.WriteBooleanValue(sw.IsPresent);
                return;
            case Enum e:
                if (EnumsAsStrings) writer.WriteStringValue(e.ToString());
                else writer.WriteNumberValue(Convert.ToInt64(e, CultureInfo.InvariantCulture));
                return;
            case int or long or short or byte or sbyte or ushort or uint:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                return;
            case ulong u:
                writer.WriteNumberValue(u);
                return;
            case double or float or decimal:
                writer.WriteNumberValue(Convert.ToDecimal(value, CultureInfo.InvariantCulture));
                return;
            case DateTime d:
                writer.WriteStringValue(d.ToString("o", CultureInfo.InvariantCulture));
                return;
            case Guid or Uri:
                writer.WriteStringValue(value.ToString());
                return;
        }
        if (depth > Depth)
        {
            // pwsh also falls back to the value's string form past -Depth (with a warning).
            WriteWarning($"Resulting JSON is truncated as serialization has exceeded the set depth of {Depth}.");
            writer.WriteStringValue(value.ToString());
            return;
        }
        switch (value)
        {
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    writer.WritePropertyName(entry.Key.ToString() ?? "");
                    Write(writer, entry.Value, depth + 1);
                }
                writer.WriteEndObject();
                return;
            case IEnumerable enumerable:
                writer.WriteStartArray();
                foreach (var item in enumerable) Write(writer, item, depth + 1);
                writer.WriteEndArray();
                return;
            default:
                WriteProperties(writer, PSObject.AsPSObject(value), depth);
                return;
        }
    }

    private void WriteProperties(Utf8JsonWriter writer, PSObject pso, int depth)
    {
        if (depth > Depth)
        {
            writer.WriteStringValue(pso.ToString());
            return;
        }
        writer.WriteStartObject();
        foreach (var property in pso.Properties.Where(p => p.IsGettable))
        {
            writer.WritePropertyName(property.Name);
            Write(writer, property.Value, depth + 1);
        }
        writer.WriteEndObject();
    }
}

[Cmdlet(VerbsData.ConvertFrom, "Json")]
public sealed class ConvertFromJsonCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string InputObject { get; set; } = "";

    [Parameter] public SwitchParameter AsHashtable { get; set; }
    [Parameter] public SwitchParameter NoEnumerate { get; set; }
    // pwsh's -DateKind; System.Text.Json below never turns strings into dates, which is what String asks for.
    [Parameter] [ValidateSet("Default", "Local", "Utc", "Offset", "String")] public string DateKind { get; set; } = "Default";

    protected override void ProcessRecord()
    {
        if (!AsHashtable) throw new PSNotSupportedException("this stand-in supports only -AsHashtable");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(InputObject);
        }
        catch (JsonException error)
        {
            throw new ArgumentException($"Conversion from JSON failed with error: {error.Message}", error);
        }
        using (document)
        {
            var value = Convert(document.RootElement);
            WriteObject(value, enumerateCollection: !NoEnumerate);
        }
    }

    private static object? Convert(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => ToHashtable(element),
        JsonValueKind.Array => element.EnumerateArray().Select(Convert).ToArray(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out var l) ? l : element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    private static Hashtable ToHashtable(JsonElement element)
    {
        // Case-sensitive like pwsh's -AsHashtable, which keeps keys that differ only in case.
        var table = new Hashtable(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject()) table[property.Name] = Convert(property.Value);
        return table;
    }
}

using PsCheck;

const string Usage = """
    usage: pscheck check --allow FILE PATH...      static rules on every .ps1/.psm1 under PATH
           pscheck protocol --host FILE --stubs FILE  run the host in-process against stub cmdlets
    """;

if (args.Length == 0)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

try
{
    return args[0] switch
    {
        "check" => Check(args[1..]),
        "protocol" => ProtocolTest.Run(Option(args, "--host"), Option(args, "--stubs")),
        _ => Fail($"unknown mode '{args[0]}'"),
    };
}
catch (ArgumentException error)
{
    return Fail(error.Message);
}

static int Check(string[] args)
{
    var allowFile = Option(args, "--allow");
    var paths = args.Where((a, i) => a != "--allow" && (i == 0 || args[i - 1] != "--allow")).ToList();
    if (paths.Count == 0) throw new ArgumentException("check needs at least one path");

    var allowed = File.ReadAllLines(allowFile).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'));
    var checker = new StaticChecker(allowed);
    var files = paths.SelectMany(ScriptFiles).ToList();
    if (files.Count == 0) throw new ArgumentException($"no .ps1/.psm1 files under {string.Join(", ", paths)}");

    var findings = files.SelectMany(checker.CheckFile).ToList();
    foreach (var finding in findings) Console.WriteLine(finding);
    Console.WriteLine($"pscheck: {files.Count} file(s), {findings.Count} finding(s)");
    return findings.Count == 0 ? 0 : 1;
}

static IEnumerable<string> ScriptFiles(string path)
{
    if (File.Exists(path)) return [path];
    if (!Directory.Exists(path)) throw new ArgumentException($"no such file or directory: {path}");
    return Directory.EnumerateFiles(path, "*.*", SearchOption.AllDirectories)
        .Where(f => f.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".psm1", StringComparison.OrdinalIgnoreCase))
        .Order(StringComparer.Ordinal);
}

static string Option(string[] args, string name)
{
    var index = Array.IndexOf(args, name);
    if (index < 0 || index + 1 >= args.Length) throw new ArgumentException($"{name} FILE is required");
    return args[index + 1];
}

static int Fail(string message)
{
    Console.Error.WriteLine($"pscheck: {message}");
    Console.Error.WriteLine(Usage);
    return 2;
}

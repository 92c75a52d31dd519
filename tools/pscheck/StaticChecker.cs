using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;

namespace PsCheck;

public sealed record Finding(string File, int Line, int Column, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>
/// Static rules for scripts that must never run text from their input: no Invoke-Expression or
/// Add-Type, no script blocks built from strings, only allow-listed command names, and dynamic
/// invocation (`&amp; $x`, `. $x`) only of a variable that holds a Get-Command result.
/// </summary>
public sealed class StaticChecker
{
    private static readonly string[] ForbiddenTargets = ["Invoke-Expression", "Add-Type"];
    private static readonly HashSet<string> ForbiddenMembers = new(StringComparer.OrdinalIgnoreCase) { "InvokeScript", "NewScriptBlock", "AddScript", "AddCommand" };

    /// <summary>Types whose static members start code or processes: any static call on them is refused.</summary>
    private static readonly Dictionary<Type, string> ForbiddenStaticTypes = new()
    {
        [typeof(PowerShell)] = "it runs a nested pipeline",
        [typeof(System.Diagnostics.Process)] = "it starts a process",
        [typeof(System.Reflection.Assembly)] = "it loads code",
    };
    private static readonly HashSet<string> AllowedCommandTypes = new(StringComparer.OrdinalIgnoreCase) { "Cmdlet", "Function" };
    private static readonly HashSet<string> VariableSettingParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "OutVariable", "ov", "ErrorVariable", "ev", "WarningVariable", "wv", "InformationVariable", "iv", "PipelineVariable", "pv",
    };

    private readonly HashSet<string> allowedCommands;
    private readonly Dictionary<string, string> forbidden;

    public StaticChecker(IEnumerable<string> allowedCommands)
    {
        this.allowedCommands = new HashSet<string>(allowedCommands, StringComparer.OrdinalIgnoreCase);
        forbidden = ForbiddenNames();
    }

    /// <summary>Invoke-Expression, Add-Type and every alias the engine defines for them (iex, …).</summary>
    private static Dictionary<string, string> ForbiddenNames()
    {
        var names = ForbiddenTargets.ToDictionary(n => n, n => n, StringComparer.OrdinalIgnoreCase);
        names["iex"] = "Invoke-Expression";
        foreach (var entry in InitialSessionState.CreateDefault2().Commands.OfType<SessionStateAliasEntry>())
        {
            var target = ForbiddenTargets.FirstOrDefault(t => string.Equals(t, entry.Definition, StringComparison.OrdinalIgnoreCase));
            if (target is not null) names[entry.Name] = target;
        }
        return names;
    }

    public IReadOnlyList<Finding> CheckFile(string path)
    {
        var ast = Parser.ParseFile(path, out _, out var errors);
        var findings = new List<Finding>();
        void Report(IScriptExtent extent, string message) => findings.Add(new Finding(path, extent.StartLineNumber, extent.StartColumnNumber, message));

        foreach (var error in errors) Report(error.Extent, $"parse error: {error.Message}");
        if (errors.Length > 0) return findings;

        var localFunctions = ast.FindAll(a => a is FunctionDefinitionAst, true).Cast<FunctionDefinitionAst>()
            .Select(f => f.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var commandVariables = CommandVariables(ast);

        foreach (var command in ast.FindAll(a => a is CommandAst, true).Cast<CommandAst>())
        {
            CheckCommand(command, localFunctions, commandVariables, Report);
        }
        foreach (var member in ast.FindAll(a => a is InvokeMemberExpressionAst, true).Cast<InvokeMemberExpressionAst>())
        {
            CheckMemberInvocation(member, Report);
        }
        foreach (var variable in ast.FindAll(a => a is VariableExpressionAst, true).Cast<VariableExpressionAst>())
        {
            if (string.Equals(variable.VariablePath.Unqualified(), "ExecutionContext", StringComparison.OrdinalIgnoreCase))
            {
                Report(variable.Extent, "$ExecutionContext is forbidden: its InvokeCommand runs text as script");
            }
        }
        return findings.OrderBy(f => f.Line).ThenBy(f => f.Column).ToList();
    }

    private void CheckCommand(CommandAst command, HashSet<string> localFunctions, Dictionary<string, List<AssignmentStatementAst>> commandVariables, Action<IScriptExtent, string> report)
    {
        var first = command.CommandElements[0];
        if (command.InvocationOperator is TokenKind.Ampersand or TokenKind.Dot && first is not StringConstantExpressionAst)
        {
            if (!IsCommandVariableInvocation(first, command, commandVariables))
            {
                var op = command.InvocationOperator == TokenKind.Dot ? "." : "&";
                report(command.Extent, $"dynamic invocation '{op} {first.Extent.Text}': only a local variable assigned from Get-Command -CommandType Cmdlet, Function may be invoked");
            }
            return;
        }

        var name = command.GetCommandName();
        if (name is null)
        {
            report(command.Extent, $"command name '{first.Extent.Text}' is not a literal");
            return;
        }
        var unqualified = name[(name.LastIndexOf('\\') + 1)..];
        if (forbidden.TryGetValue(name, out var target) || forbidden.TryGetValue(unqualified, out target))
        {
            var alias = string.Equals(name, target, StringComparison.OrdinalIgnoreCase) ? "" : $" ({target})";
            var why = target == "Add-Type" ? "no code may be compiled at run time" : "text must never be evaluated as script";
            report(command.Extent, $"forbidden command '{name}'{alias}: {why}");
            return;
        }
        if (!allowedCommands.Contains(name) && !localFunctions.Contains(name))
        {
            report(command.Extent, $"command '{name}' is not in allowed-commands.txt");
            return;
        }
        if (string.Equals(unqualified, "Get-Command", StringComparison.OrdinalIgnoreCase)) CheckGetCommand(command, report);
        foreach (var parameter in command.CommandElements.OfType<CommandParameterAst>())
        {
            if (VariableSettingParameters.Contains(parameter.ParameterName))
            {
                report(parameter.Extent, $"-{parameter.ParameterName} is forbidden: it sets variables behind the checker's back");
            }
        }
    }

    /// <summary>Get-Command may resolve only cmdlets and functions, never an application or a script file.</summary>
    private static void CheckGetCommand(CommandAst command, Action<IScriptExtent, string> report)
    {
        var binding = StaticParameterBinder.BindCommand(command, true);
        if (!binding.BoundParameters.TryGetValue("CommandType", out var commandType) || !OnlyAllowedCommandTypes(commandType.Value))
        {
            report(command.Extent, "Get-Command must pass -CommandType Cmdlet, Function: an application or script must never be resolved");
        }
        if (binding.BoundParameters.TryGetValue("Name", out var name) && name.Value is StringConstantExpressionAst literal
            && WildcardPattern.ContainsWildcardCharacters(literal.Value))
        {
            report(command.Extent, $"Get-Command -Name '{literal.Value}' has wildcards: name exactly one command");
        }
    }

    private static bool OnlyAllowedCommandTypes(Ast? value) => value switch
    {
        StringConstantExpressionAst s => AllowedCommandTypes.Contains(s.Value),
        ArrayLiteralAst array => array.Elements.All(OnlyAllowedCommandTypes),
        _ => false,
    };

    /// <summary>
    /// `&amp; $v` is allowed when $v is a plain local variable, every binding of that name in the file is
    /// `$v = Get-Command …`, and one such assignment sits in a block that encloses the invocation
    /// before it, so the variable cannot come from a caller's scope.
    /// </summary>
    private static bool IsCommandVariableInvocation(CommandElementAst first, CommandAst command, Dictionary<string, List<AssignmentStatementAst>> commandVariables)
    {
        if (first is not VariableExpressionAst variable || !variable.VariablePath.IsUnqualified || variable.Splatted) return false;
        if (!commandVariables.TryGetValue(variable.VariablePath.UserPath, out var assignments)) return false;
        return assignments.Any(assignment =>
            assignment.Extent.EndOffset <= command.Extent.StartOffset && assignment.Parent is { } block && Encloses(block, command)
            && NearestFunction(assignment) == NearestFunction(command));
    }

    private static bool Encloses(Ast outer, Ast inner)
    {
        for (var node = inner.Parent; node is not null; node = node.Parent)
        {
            if (node == outer) return true;
        }
        return false;
    }

    private static Ast? NearestFunction(Ast ast)
    {
        for (var node = ast.Parent; node is not null; node = node.Parent)
        {
            if (node is FunctionDefinitionAst or ScriptBlockExpressionAst) return node;
        }
        return null;
    }

    /// <summary>Variables whose every binding in the file is an assignment from Get-Command.</summary>
    private static Dictionary<string, List<AssignmentStatementAst>> CommandVariables(Ast ast)
    {
        var fromGetCommand = new Dictionary<string, List<AssignmentStatementAst>>(StringComparer.OrdinalIgnoreCase);
        var otherwise = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "_", "PSItem", "args", "input", "this", "Matches", "PSCmdlet" };

        foreach (var assignment in ast.FindAll(a => a is AssignmentStatementAst, true).Cast<AssignmentStatementAst>())
        {
            foreach (var target in AssignedVariables(assignment.Left))
            {
                if (assignment.Left is VariableExpressionAst && assignment.Operator == TokenKind.Equals && IsGetCommand(assignment.Right))
                {
                    if (!fromGetCommand.TryGetValue(target, out var list)) fromGetCommand[target] = list = [];
                    list.Add(assignment);
                }
                else
                {
                    otherwise.Add(target);
                }
            }
        }
        foreach (var loop in ast.FindAll(a => a is ForEachStatementAst, true).Cast<ForEachStatementAst>())
        {
            otherwise.Add(loop.Variable.VariablePath.Unqualified());
        }
        foreach (var parameter in ast.FindAll(a => a is ParameterAst, true).Cast<ParameterAst>())
        {
            otherwise.Add(parameter.Name.VariablePath.Unqualified());
        }
        foreach (var convert in ast.FindAll(a => a is ConvertExpressionAst, true).Cast<ConvertExpressionAst>())
        {
            if (convert.Type.TypeName.Name.Equals("ref", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var v in convert.Child.FindAll(a => a is VariableExpressionAst, true).Cast<VariableExpressionAst>()) otherwise.Add(v.VariablePath.Unqualified());
            }
        }
        foreach (var name in otherwise) fromGetCommand.Remove(name);
        return fromGetCommand;
    }

    private static IEnumerable<string> AssignedVariables(ExpressionAst left) => left switch
    {
        VariableExpressionAst v => [v.VariablePath.Unqualified()],
        ConvertExpressionAst c => AssignedVariables(c.Child),
        AttributedExpressionAst a => AssignedVariables(a.Child),
        ArrayLiteralAst array => array.Elements.SelectMany(AssignedVariables),
        ParenExpressionAst { Pipeline: PipelineAst { PipelineElements: [CommandExpressionAst inner] } } => AssignedVariables(inner.Expression),
        _ => [],
    };

    private static bool IsGetCommand(StatementAst right) =>
        right is PipelineAst { PipelineElements: [CommandAst command] }
        && command.InvocationOperator == TokenKind.Unknown
        && string.Equals(command.GetCommandName(), "Get-Command", StringComparison.OrdinalIgnoreCase);

    private static void CheckMemberInvocation(InvokeMemberExpressionAst member, Action<IScriptExtent, string> report)
    {
        var memberName = (member.Member as StringConstantExpressionAst)?.Value;
        if (memberName is null)
        {
            report(member.Extent, $"member name '{member.Member.Extent.Text}' is computed: call methods by their literal name");
            return;
        }
        if (ForbiddenMembers.Contains(memberName))
        {
            report(member.Extent, $"method '{memberName}' is forbidden: it runs script or commands named by text");
            return;
        }
        if (!member.Static) return;
        if (member.Expression is not TypeExpressionAst type)
        {
            report(member.Extent, $"static call '{member.Extent.Text}' on a computed type: name the type literally");
            return;
        }
        if (memberName.Equals("Create", StringComparison.OrdinalIgnoreCase) && IsScriptBlockType(type.TypeName))
        {
            report(member.Extent, $"[{type.TypeName.FullName}]::Create is forbidden: it builds a script block from text");
            return;
        }
        var resolved = type.TypeName.GetReflectionType();
        if (resolved is not null && ForbiddenStaticTypes.TryGetValue(resolved, out var why))
        {
            report(member.Extent, $"[{type.TypeName.FullName}]::{memberName} is forbidden: {why}");
        }
    }

    private static bool IsScriptBlockType(ITypeName typeName)
    {
        if (typeName.GetReflectionType() == typeof(ScriptBlock)) return true;
        var name = typeName.FullName;
        return name.Equals("scriptblock", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith("Automation.ScriptBlock", StringComparison.OrdinalIgnoreCase);
    }
}

internal static class VariablePathExtensions
{
    /// <summary>The name without scope or drive: `$script:x` and `$x` bind the same name here.</summary>
    public static string Unqualified(this VariablePath path) => path.UserPath[(path.UserPath.LastIndexOf(':') + 1)..];
}

namespace PsCheck;

/// <summary>A minimal runner: one named case per It, a failure message per case, a closing tally.</summary>
public sealed class Spec
{
    private int passed;
    private int failed;

    public void It(string name, Action body)
    {
        try
        {
            body();
            passed++;
            Console.WriteLine($"  ✓ {name}");
        }
        catch (Exception error)
        {
            failed++;
            Console.WriteLine($"  ✗ {name}\n      {error.GetType().Name}: {error.Message}");
        }
    }

    public int Report()
    {
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    public static void Equal<T>(T expected, T actual)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual)) throw new SpecFailure($"expected {expected}\n      actual   {actual}");
    }

    public static void True(bool condition, string what)
    {
        if (!condition) throw new SpecFailure($"expected: {what}");
    }
}

public sealed class SpecFailure(string message) : Exception(message);

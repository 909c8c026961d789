using System.Text;

namespace FedCore.Tests.Governance;

/// <summary>
/// Makes malformed variants of a valid JSON document for fuzzing readers: byte flips, truncations, inserted bytes,
/// deleted, duplicated and reordered tokens, values of another type, huge numbers, deep nesting, edited strings,
/// duplicated members, swapped values and numbers off by one. Deterministic for a given <see cref="Random"/>.
/// </summary>
internal sealed class JsonMutator(Random random)
{
    private static readonly string[] OtherValues = ["\"x\"", "\"\"", "0", "-1", "1.5", "true", "false", "null", "[]", "{}", "[1,2]", "{\"a\":1}"];

    private static readonly string[] HugeNumbers =
    [
        "1e999999999", "-1e-999999999", "1E400", "123456789012345678901234567890", "0.00000000000000000000000000001",
        "9223372036854775808", "-9223372036854775809", "1e28", "1e-28", "2147483648", "4.9e-324", "0e99999999999999999999",
        new string('9', 500), "0." + new string('0', 400) + "1", "1" + new string('0', 27), "-0", "1.0",
    ];

    private static readonly string[] OddStrings =
    [
        "\"\\ud800\"", "\"\\udc00x\"", "\" \"", "\"\\u0000\"", "\"é\"", "\"AAAA\"", "\"====\"", "\"A\"", "\"2025-03-01T09:00:00Z\"",
        "\"2025-02-30T09:00:00Z\"", "\"9999-12-31T23:59:59Z\"", "\"0001-01-01T00:00:00Z\"", "\"HU/budapest\"", "\"XX/nope\"", "\"HU/\"",
        "\"" + new string('a', 64) + "\"", "\"" + new string('A', 64) + "\"", "\"" + new string('x', 100_000) + "\"",
        "\"ckks\"", "\"plaintext-simulation\"", "\"suspend\"", "\"resume\"", "\"terminate\"", "\"mlp\"",
    ];

    /// <summary>The tokens of a valid JSON text: strings, numbers, literals and punctuation, without whitespace.</summary>
    public static List<string> Tokenize(string json)
    {
        var tokens = new List<string>();
        for (int i = 0; i < json.Length;)
        {
            char c = json[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            int start = i;
            if (c == '"')
            {
                for (i++; json[i] != '"'; i++)
                    if (json[i] == '\\')
                        i++;
                i++;
            }
            else if (c == '-' || char.IsAsciiDigit(c))
                while (i < json.Length && (char.IsAsciiDigit(json[i]) || json[i] is '-' or '+' or '.' or 'e' or 'E'))
                    i++;
            else if (char.IsAsciiLetter(c))
                while (i < json.Length && char.IsAsciiLetter(json[i]))
                    i++;
            else
                i++;
            tokens.Add(json[start..i]);
        }
        return tokens;
    }

    /// <summary>One to three mutations of the seed, token-level ones first.</summary>
    public byte[] Mutate(IReadOnlyList<string> seed)
    {
        var tokens = seed.ToList();
        int count = 1 + random.Next(3);
        bool byteLevel = false;
        for (int m = 0; m < count; m++)
        {
            int kind = random.Next(13);
            if (kind >= 10)
            {
                byteLevel = true;
                continue;
            }
            MutateTokens(tokens, kind);
        }
        string separator = random.Next(4) switch { 0 => " ", 1 => "\n  ", _ => "" };
        var bytes = Encoding.UTF8.GetBytes(string.Join(separator, tokens));
        return byteLevel ? MutateBytes(bytes) : bytes;
    }

    private void MutateTokens(List<string> tokens, int kind)
    {
        int i = random.Next(tokens.Count);
        switch (kind)
        {
            case 0:
                tokens.RemoveAt(i);
                break;
            case 1:
                tokens.Insert(i, tokens[i]);
                break;
            case 2:
                int j = random.Next(tokens.Count);
                (tokens[i], tokens[j]) = (tokens[j], tokens[i]);
                break;
            case 3:
                tokens[ValueIndex(tokens)] = Pick(OtherValues);
                break;
            case 4:
                tokens[ValueIndex(tokens)] = Pick(HugeNumbers);
                break;
            case 5:
                int depth = Pick([8, 14, 15, 16, 17, 64, 10_000]);
                bool arrays = random.Next(2) == 0;
                tokens[ValueIndex(tokens)] = arrays
                    ? new string('[', depth) + "1" + new string(']', depth)
                    : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
                break;
            case 6:
                int s = StringIndex(tokens);
                tokens[s] = random.Next(2) == 0 ? Pick(OddStrings) : EditString(tokens[s]);
                break;
            case 7:
                DuplicateMember(tokens);
                break;
            case 8:
                SwapValuesOfOneKind(tokens);
                break;
            default:
                var numbers = Enumerable.Range(0, tokens.Count).Where(n => long.TryParse(tokens[n], out _)).ToList();
                if (numbers.Count > 0)
                {
                    int n = numbers[random.Next(numbers.Count)];
                    tokens[n] = (long.Parse(tokens[n]) + (random.Next(2) == 0 ? 1 : -1)).ToString();
                }
                break;
        }
    }

    /// <summary>Swaps two values that are both strings or both numbers: the syntax and often the types stay valid, the meaning does not.</summary>
    private void SwapValuesOfOneKind(List<string> tokens)
    {
        int a = ValueIndex(tokens);
        for (int attempt = 0; attempt < 20; attempt++)
        {
            int b = ValueIndex(tokens);
            if (b != a && tokens[a].StartsWith('"') == tokens[b].StartsWith('"') && tokens[a] != tokens[b])
            {
                (tokens[a], tokens[b]) = (tokens[b], tokens[a]);
                return;
            }
        }
    }

    private byte[] MutateBytes(byte[] bytes)
    {
        switch (random.Next(3))
        {
            case 0:
                for (int k = 1 + random.Next(4); k > 0 && bytes.Length > 0; k--)
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 + random.Next(255));
                return bytes;
            case 1:
                return bytes[..random.Next(bytes.Length + 1)];
            default:
                byte[][] inserts = [[0xC3, 0x28], [0xFF], [0xEF, 0xBB, 0xBF], [0xED, 0xA0, 0x80], [0x00], [(byte)'"'], [(byte)',']];
                int at = random.Next(bytes.Length + 1);
                return [.. bytes[..at], .. Pick(inserts), .. bytes[at..]];
        }
    }

    /// <summary>A token that is a value (not a key, not punctuation), or any token if none is found quickly.</summary>
    private int ValueIndex(List<string> tokens)
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            int i = random.Next(tokens.Count);
            bool isKey = i + 1 < tokens.Count && tokens[i + 1] == ":";
            if (!isKey && tokens[i] is not ("{" or "}" or "[" or "]" or ":" or ","))
                return i;
        }
        return random.Next(tokens.Count);
    }

    private int StringIndex(List<string> tokens)
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            int i = random.Next(tokens.Count);
            if (tokens[i].StartsWith('"'))
                return i;
        }
        return random.Next(tokens.Count);
    }

    /// <summary>The string with one character changed, removed or doubled (a typo in a key or a value).</summary>
    private string EditString(string token)
    {
        if (token.Length < 3)
            return "\"z\"";
        int at = 1 + random.Next(token.Length - 2);
        if (token[at] == '\\' || token[at - 1] == '\\')
            return token;
        return random.Next(3) switch
        {
            0 => token[..at] + (char)('a' + random.Next(26)) + token[(at + 1)..],
            1 => token[..at] + token[(at + 1)..],
            _ => token[..at] + token[at] + token[at..],
        };
    }

    /// <summary>Repeats a "key": value member right after itself, so the object names a field twice.</summary>
    private void DuplicateMember(List<string> tokens)
    {
        int key = -1;
        for (int attempt = 0; attempt < 20 && key < 0; attempt++)
        {
            int i = random.Next(tokens.Count - 1);
            if (tokens[i + 1] == ":")
                key = i;
        }
        if (key < 0)
            return;
        int end = key + 2, depth = 0;
        do
        {
            if (tokens[end] is "{" or "[")
                depth++;
            else if (tokens[end] is "}" or "]")
                depth--;
            end++;
        }
        while (depth > 0 && end < tokens.Count);
        tokens.InsertRange(end, [",", .. tokens[key..end]]);
    }

    private T Pick<T>(T[] items) => items[random.Next(items.Length)];
}

using System.Collections.Immutable;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace FedCore.Policy.Yaml;

/// <summary>
/// Reads one policy file into <see cref="YamlValue"/>s from YamlDotNet's event parser, refusing what a policy has no use
/// for and what could make it mean something other than it reads: several documents, anchors and aliases (which also
/// bound the work per file), tags, keys that are not plain text, a key given twice, tabs in indentation.
/// </summary>
internal static class YamlDocument
{
    public const int MaxBytes = 1 << 20;

    private const int MaxDepth = 16;

    public static YamlValue Read(string text, string file)
    {
        if (text.Length > MaxBytes)
            throw new PolicyLoadException(file, null, $"is {text.Length} characters long; at most {MaxBytes} are read");
        RejectTabIndentation(text, file);
        var parser = new TrackingParser(new Parser(new StringReader(text)));
        try
        {
            parser.MoveNext();
            parser.MoveNext();
            if (parser.Current is StreamEnd or null)
                throw new PolicyLoadException(file, null, "is empty");
            parser.MoveNext();
            var root = Node(parser, file, 0);
            parser.MoveNext();
            if (parser.Current is not (StreamEnd or null))
                throw new PolicyLoadException(file, Line(parser.Current.Start), "holds a second YAML document; a policy file holds one");
            return root;
        }
        catch (YamlException e)
        {
            throw new PolicyLoadException(file, Line(e.Start), $"not valid YAML: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner fails so on some unclosed flow collections, without a position: name the last line it read.
            throw new PolicyLoadException(file, parser.LastLine, "not valid YAML: the parser cannot go on after this line (an unclosed '[', '{' or quote?)", e);
        }
    }

    /// <summary>YAML forbids tabs for indentation; YamlDotNet reports them on the wrong line, so they are caught first.</summary>
    private static void RejectTabIndentation(string text, string file)
    {
        int line = 1;
        bool atIndent = true;
        foreach (char c in text)
        {
            if (c == '\n')
            {
                line++;
                atIndent = true;
            }
            else if (c == '\t' && atIndent)
                throw new PolicyLoadException(file, line, "a tab in the indentation; YAML indents with spaces");
            else if (c != ' ')
                atIndent = false;
        }
    }

    private static YamlValue Node(IParser parser, string file, int depth)
    {
        var current = parser.Current ?? throw new PolicyLoadException(file, null, "ends in the middle of a value");
        int line = Line(current.Start);
        if (depth > MaxDepth)
            throw new PolicyLoadException(file, line, $"nests more than {MaxDepth} levels deep");
        if (current is AnchorAlias)
            throw new PolicyLoadException(file, line, "an alias (*name); policy files do not use anchors and aliases");
        if (current is NodeEvent node)
        {
            if (!node.Anchor.IsEmpty)
                throw new PolicyLoadException(file, line, $"an anchor (&{node.Anchor}); policy files do not use anchors and aliases");
            if (!node.Tag.IsEmpty)
                throw new PolicyLoadException(file, line, $"a tag ({node.Tag}); policy files do not use tags");
        }
        parser.MoveNext();
        switch (current)
        {
            case Scalar scalar:
                return new YamlText(line, scalar.Value, scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted, scalar.Style == ScalarStyle.Literal);
            case SequenceStart:
                var items = ImmutableArray.CreateBuilder<YamlValue>();
                while (parser.Current is not SequenceEnd)
                    items.Add(Node(parser, file, depth + 1));
                parser.MoveNext();
                return new YamlList(line, items.ToImmutable());
            case MappingStart:
                var entries = ImmutableArray.CreateBuilder<KeyValuePair<YamlText, YamlValue>>();
                var seen = new Dictionary<string, int>(StringComparer.Ordinal);
                while (parser.Current is not MappingEnd)
                {
                    if (Node(parser, file, depth + 1) is not YamlText { Block: false } key)
                        throw new PolicyLoadException(file, Line(parser.Current?.Start ?? current.Start), "a key that is not plain text");
                    if (!seen.TryAdd(key.Text, key.Line))
                        throw new PolicyLoadException(file, key.Line, $"'{key.Text}' is given twice in one mapping (first on line {seen[key.Text]})");
                    entries.Add(new(key, Node(parser, file, depth + 1)));
                }
                parser.MoveNext();
                return new YamlMap(line, entries.ToImmutable());
            default:
                throw new PolicyLoadException(file, line, $"unexpected {current.GetType().Name} in the YAML");
        }
    }

    /// <summary>Remembers the line of the last event read, for errors that come without one.</summary>
    private sealed class TrackingParser(IParser inner) : IParser
    {
        public int LastLine { get; private set; } = 1;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            bool moved = inner.MoveNext();
            if (inner.Current is { } current)
                LastLine = Line(current.Start);
            return moved;
        }
    }

    private static int Line(Mark mark) => (int)Math.Min(mark.Line, int.MaxValue);
}

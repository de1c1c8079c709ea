using System.Text;

namespace LinqStream.Cli.Input;

/// <summary>Splits one CSV line (RFC 4180: commas, double-quoted fields with <c>""</c> for a quote; no line breaks inside quotes).</summary>
internal static class CsvLine
{
    public static bool TrySplit(string line, out string[] fields, out string reason)
    {
        var result = new List<string>();
        var field = new StringBuilder();
        int i = 0;
        while (true)
        {
            field.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        fields = [];
                        reason = "unterminated quoted field (a quoted field must end on the same line)";
                        return false;
                    }

                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    field.Append(line[i++]);
                }

                if (i < line.Length && line[i] != ',')
                {
                    fields = [];
                    reason = $"unexpected character '{line[i]}' after a quoted field at column {i + 1}";
                    return false;
                }
            }
            else
            {
                while (i < line.Length && line[i] != ',')
                {
                    field.Append(line[i++]);
                }
            }

            result.Add(field.ToString());
            if (i >= line.Length)
            {
                break;
            }

            i++; // the comma
        }

        fields = [.. result];
        reason = "";
        return true;
    }
}

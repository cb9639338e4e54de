using System.Collections.Concurrent;

namespace Opportunites.Web.Board;

/// <summary>
/// The searches known, a moment ago, to match more offers than the board counts: for them a page view runs the page
/// statement alone. Per process (each node learns it on its first request); bounded, since search text is user input.
/// </summary>
internal sealed class CappedCounts(TimeProvider clock)
{
    // Far more than the distinct searches of a minute on a national board; past it, start again rather than grow.
    private const int MaxEntries = 20_000;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _until = new(StringComparer.Ordinal);

    public bool Contains(string key)
    {
        if (!_until.TryGetValue(key, out var until))
        {
            return false;
        }

        if (until > clock.GetUtcNow())
        {
            return true;
        }

        _until.TryRemove(new KeyValuePair<string, DateTimeOffset>(key, until));
        return false;
    }

    public void Remember(string key, TimeSpan lifetime)
    {
        if (_until.Count >= MaxEntries)
        {
            _until.Clear();
        }

        _until[key] = clock.GetUtcNow() + lifetime;
    }
}

namespace Opportunites.Web.Shared;

/// <summary>Personal data kept out of logs: enough to tell two cases apart while investigating, not to contact anyone.</summary>
public static class LogMasking
{
    /// <summary>"jeanne.dupont@example.org" → "j***@example.org"; anything that is not an address → "***".</summary>
    public static string MaskEmail(string? email)
    {
        var e = email?.Trim() ?? "";
        var at = e.LastIndexOf('@');
        if (at <= 0 || at == e.Length - 1)
        {
            return "***";
        }

        // The domain says which organisation without naming the person; control characters never reach the log.
        var domain = new string(e[(at + 1)..].Where(c => !char.IsControl(c)).Take(100).ToArray());
        return char.IsControl(e[0]) ? "***@" + domain : e[0] + "***@" + domain;
    }
}

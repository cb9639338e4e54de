using System.Globalization;

namespace Opportunites.Bench;

/// <summary>The expiry figures in the report, with the targets of issue 8 (item 4).</summary>
internal static class ExpiryReport
{
    public const double MassTargetMs = 2000;
    public const double IdleTargetMs = 50;

    public static void Add(Report report, ExpiryFigures f)
    {
        // An offer leaves the board at its closing instant (VisibleOverdue, checked before the run); the run brings the
        // status column up to date in batches within its time budget, and the next runs for the rest.
        var c = f.CatchUp;
        report.Check($"expiration : {f.Overdue:N0} offres échues, une exécution", f.MassMs, "ms", $"< {MassTargetMs:0} ms",
            f.MassMs < MassTargetMs && f.VisibleOverdue == 0 && f.Expired + c.Rows == f.Overdue,
            $"toutes hors du tableau dès leur échéance ; statut 'expired' écrit pour {f.Expired:N0} dans cette exécution " +
            $"(lots de {f.Settings.ExpireBatchSize:N0}, pas de nouveau lot après {f.Settings.ExpireTimeBudgetMs} ms), tâche seule {f.MassJobMs} ms, validée");
        report.Add("expiration : rattrapage des statuts restants", $"{c.Rows:N0} offres en {c.Runs} exécutions suivantes " +
            $"(une toutes les 15 min en production), la plus longue {c.MaxMs.ToString("0", CultureInfo.InvariantCulture)} ms",
            c.TotalMs / 1000, "s");
        AddIdle(report, "expiration sans rien à faire", f.IdleMs, $"jeu de données tel quel (le rattrapage initial en a expiré {f.Initial:N0})");
        var after = f.IdleAfterMassMs;
        var afterMax = after[^1].ToString("0.#", CultureInfo.InvariantCulture);
        report.Add("expiration sans rien à faire, juste après la masse : p50", $"{after.Length} exécutions, max {afterMax} ms ; " +
            "avant l'autovacuum (0056) : les anciennes versions des offres expirées sont encore dans l'index partiel des offres ouvertes",
            after[after.Length / 2], "ms");
        report.Check("expiration : offres échues encore affichées", f.VisibleOverdue, "", "0", f.VisibleOverdue == 0,
            "1re page du tableau (tout, et France dans les deux sens) avant l'exécution : il masque deadline_sort <= now() lui-même");
        var s = f.Schedule;
        var period = s.MaxGap.TotalMinutes;
        report.Check("expiration : période maximale entre deux exécutions", period, "min", "≤ 15 min", period <= 15,
            $"cron « {s.Cron} » Europe/Paris sur {s.Days} jours (deux changements d'heure)");
        var afterMidnight = s.MaxAfterMidnight.TotalMinutes;
        report.Check("expiration : première exécution après minuit (Paris)", afterMidnight, "min", "≤ 5 min", afterMidnight <= 5,
            "attente maximale, sur l'année, entre 00:00 et la première exécution");
        report.Add("expiration : préparation du banc", $"{f.Overdue:N0} offres rendues échues + VACUUM ; remise en état {f.RestoreSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s", f.MarkSeconds, "s");
        foreach (var (title, plan) in f.Plans)
        {
            report.Plan("expiration — " + title, plan);
        }
    }

    private static void AddIdle(Report report, string name, double[] sorted, string detail)
    {
        var p50 = sorted[sorted.Length / 2];
        var max = sorted[^1];
        report.Check(name + " : p50", p50, "ms", $"< {IdleTargetMs:0} ms", p50 < IdleTargetMs, $"{sorted.Length} exécutions ; {detail}");
        report.Check(name + " : max", max, "ms", $"< {IdleTargetMs:0} ms", max < IdleTargetMs);
    }
}

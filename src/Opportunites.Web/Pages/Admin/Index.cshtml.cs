using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;

namespace Opportunites.Web.Pages.Admin;

/// <summary>The admin hub: one entry point to every admin page.</summary>
[Authorize(Policy = Policies.Admin)]
public sealed class IndexModel : PageModel
{
    public sealed record Tool(string Href, string Name, string Description);

    public static IReadOnlyList<(string Heading, Tool[] Tools)> Sections { get; } =
    [
        ("Offres et émetteurs",
        [
            new("/admin/moderation", "Modération", "Offres en attente de validation, recherche d'une offre, publication ou refus."),
            new("/admin/moderation/organisations", "Organisations", "Organisations inscrites, confiance, rattachement des comptes."),
            new("/admin/moderation/journal", "Journal des modifications", "Qui a publié, modifié, importé ou refusé quoi, et quand."),
        ]),
        ("Lettre d'information",
        [
            new("/admin/import", "Importer des offres", "Coller les lignes de la lettre ou un fichier CSV, vérifier l'aperçu, importer."),
            new("/admin/export", "Exporter pour la lettre", "Les offres publiées depuis le dernier export, en HTML et en lignes à copier."),
        ]),
        ("Alertes, courriels et tâches",
        [
            new("/admin/alertes", "Alertes", "Aperçu de la veille d'un abonné ou d'un territoire, abonnés par territoire."),
            new("/admin/courriels", "Courriels", "Chercher les courriels envoyés à une adresse, file d'attente, échecs à relancer."),
            new("/admin/taches", "Tâches planifiées", "Veilles, rappels, clôture des offres échues : dernières exécutions, lancer maintenant."),
        ]),
    ];
}

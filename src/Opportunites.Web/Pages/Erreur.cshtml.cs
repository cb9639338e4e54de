using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Opportunites.Web.Pages;

/// <summary>Every error ends here in French, never as a stack trace.</summary>
[IgnoreAntiforgeryToken]
public sealed class ErreurModel : PageModel
{
    public string Heading { get; private set; } = "Une erreur est survenue";
    public string Message { get; private set; } = "Le service a rencontré un problème. Réessayez dans quelques instants.";

    public void OnGet(int? code) => Describe(code);

    public void OnPost(int? code) => Describe(code);

    private void Describe(int? code)
    {
        switch (code)
        {
            case 404:
                Heading = "Page introuvable";
                Message = "La page demandée n'existe pas ou a été déplacée.";
                break;
            case 400:
                Heading = "Requête invalide";
                Message = "La demande n'a pas pu être comprise. Vérifiez l'adresse ou le formulaire.";
                break;
            case 429:
                Heading = "Trop de tentatives";
                Message = "Vous avez fait trop de demandes en peu de temps. Patientez une minute puis réessayez.";
                break;
            case 503:
                Heading = "Service momentanément indisponible";
                Message = "Le service est momentanément indisponible. Réessayez dans quelques instants.";
                break;
        }
    }
}

using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Opportunites.Web.Pages;

/// <summary>Every error ends here in French, never as a stack trace.</summary>
// A failed POST (429, 400, 500) is re-executed here as a POST: checking its token again would hide the real error.
[IgnoreAntiforgeryToken]
public sealed class ErreurModel : PageModel
{
    public string Heading { get; private set; } = "Une erreur est survenue";
    public string Message { get; private set; } = "Le service a rencontré un problème. Réessayez dans quelques instants.";

    public IActionResult OnGet(int? code) => Describe(code);

    public IActionResult OnPost(int? code) => Describe(code);

    private IActionResult Describe(int? code)
    {
        // An unhandled exception: a database outage is the service's fault and temporary (503), retry later.
        var error = HttpContext.Features.Get<IExceptionHandlerFeature>()?.Error;
        if (error is not null && Data.DataExtensions.IsDatabaseUnavailable(error))
        {
            code = StatusCodes.Status503ServiceUnavailable;
            Response.StatusCode = code.Value;
            Response.Headers.RetryAfter = "5";
        }

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

        // API clients read ProblemDetails, not an HTML page (a database outage on /api/... included).
        var path = HttpContext.Features.Get<IExceptionHandlerPathFeature>()?.Path
            ?? HttpContext.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodeReExecuteFeature>()?.OriginalPath;
        if (path is not null && path.StartsWith("/api/", StringComparison.OrdinalIgnoreCase))
        {
            var status = Response.StatusCode >= 400 ? Response.StatusCode : StatusCodes.Status500InternalServerError;
            return new JsonResult(new ProblemDetails { Status = status, Title = Heading, Detail = Message })
            {
                StatusCode = status,
                ContentType = "application/problem+json; charset=utf-8",
            };
        }

        return Page();
    }
}

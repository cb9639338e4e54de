using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.OpenApi;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Board;

public static class BoardExtensions
{
    private static readonly JavaScriptEncoder JsonEncoder = JavaScriptEncoder.Create(UnicodeRanges.All);

    public static void AddBoard(this WebApplicationBuilder builder)
    {
        // JSON (API answers and problem details alike) keeps accented letters readable but always escapes < > & ' ":
        // MVC's problem details writer would otherwise use the relaxed encoder and echo a typed "<script>" as is.
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Encoder = JsonEncoder);
        builder.Services.Configure<Microsoft.AspNetCore.Mvc.JsonOptions>(o => o.JsonSerializerOptions.Encoder = JsonEncoder);

        builder.Services.AddOptions<BoardSettings>().BindConfiguration("Board");
        builder.Services.AddRateLimiter(o => o.AddPolicy<string, ReadConcurrencyPolicy>(ReadConcurrencyPolicy.Name));
        builder.Services.AddBoardPageCache();
        builder.Services.AddSingleton<BoardQueries>();
        // The territory tree changes only with migrations: loaded once, on first use (after the app has migrated).
        builder.Services.AddSingleton(sp =>
            TerritoryDirectory.LoadAsync(sp.GetRequiredService<Npgsql.NpgsqlDataSource>()).GetAwaiter().GetResult());
        builder.Services.AddSingleton<ThemeCatalog>();
        builder.Services.AddSingleton<BoardFilterParser>();

        // OpenAPI document of the JSON API, served at /openapi/v1.json by MapBoard.
        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info = new OpenApiInfo
            {
                Title = "Opportunités — API publique",
                Version = "v1",
                Description = "Offres d'emploi, appels à projets (AAP) et appels à manifestation d'intérêt (AMI), en lecture seule. "
                    + "Territoires désignés par leur code INSEE (départements : 33, 2A, 971 ; régions : R + code INSEE, ex. R75 ; France : FR).",
            };
            return Task.CompletedTask;
        }));
    }
}

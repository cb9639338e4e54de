namespace Opportunites.Web.Board;

public static class BoardExtensions
{
    public static void AddBoard(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<BoardQueries>();
    }
}

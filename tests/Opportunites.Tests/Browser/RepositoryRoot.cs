namespace Opportunites.Tests.Browser;

/// <summary>The checkout the tests run from (the folder holding Opportunites.sln).</summary>
public static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Opportunites.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"Opportunites.sln not found above {AppContext.BaseDirectory}");
    });

    public static string Path => Root.Value;
}

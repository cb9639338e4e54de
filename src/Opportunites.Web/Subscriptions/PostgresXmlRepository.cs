using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace Opportunites.Web.Subscriptions;

/// <summary>
/// Data Protection key ring in PostgreSQL: every node and every restart reads the same keys, so signed links in
/// emails and authentication cookies keep working. The interface is synchronous by design of the framework.
/// </summary>
public sealed class PostgresXmlRepository(NpgsqlDataSource db) : IXmlRepository
{
    private const string GetAllSql = "SELECT xml FROM data_protection_keys ORDER BY created_at, friendly_name";

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var conn = db.OpenConnection();
        return conn.Query<string>(GetAllSql).Select(x => XElement.Parse(x)).ToList();
    }

    // Two nodes creating their first key at once each keep their own row: both keys are valid for reading.
    private const string StoreSql = """
        INSERT INTO data_protection_keys (friendly_name, xml) VALUES (@friendlyName, @xml)
        ON CONFLICT (friendly_name) DO UPDATE SET xml = excluded.xml
        """;

    public void StoreElement(XElement element, string friendlyName)
    {
        using var conn = db.OpenConnection();
        conn.Execute(StoreSql, new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting) });
    }
}

using Opportunites.Bench;

// Benchmarks print a table; they are never run by `dotnet test`.
// Usage: dotnet run -c Release --project tests/Opportunites.Bench -- mail [--messages 20000] [--connections 8] [--smtpclient 400]
var verb = args.FirstOrDefault();
switch (verb)
{
    case "mail":
        return await MailBench.RunAsync(args.Skip(1).ToArray());
    default:
        Console.Error.WriteLine("Usage : Opportunites.Bench mail [--messages N] [--connections C] [--smtpclient N] [--outbox N]");
        return 2;
}

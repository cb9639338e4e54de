using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using NUnit.Framework.Interfaces;

namespace Opportunites.Tests.Browser;

/// <summary>
/// Base of the real-browser tests: one app on Kestrel and one headless Debian Chromium per fixture, a fresh browser
/// context (cookies, storage) per test. A failing test leaves a screenshot and the HTML of each of its pages in
/// TestResults/browser/. Run them alone with <c>./test.sh --filter TestCategory=Browser</c>.
/// </summary>
[Category("Browser")]
public abstract class BrowserTest
{
    public const int PhoneWidth = 375;
    public const int PhoneHeight = 667;

    private readonly List<IBrowserContext> contexts = [];
    private readonly List<string> pageErrors = [];
    private readonly List<string> serverErrors = [];
    private IPlaywright? playwright;
    private IBrowser? browser;
    private BrowserApp? app;
    private IPage? page;

    /// <summary>The page opened for the current test (desktop size).</summary>
    protected IPage Page => page ?? throw new InvalidOperationException("No page outside a test.");

    /// <summary>The app's address, e.g. http://127.0.0.1:41234; pages also take relative URLs ("/").</summary>
    protected string BaseUrl => App.BaseUrl;

    protected BrowserApp App => app ?? throw new InvalidOperationException("The app is not started.");

    /// <summary>The database the app runs on: the shared test database unless a fixture brings its own.</summary>
    protected virtual string ConnectionString => SharedDatabase.ConnectionString;

    /// <summary>Starts what the app must reach before it starts (e.g. an SMTP server); runs once per fixture.</summary>
    protected virtual Task StartServicesAsync() => Task.CompletedTask;

    /// <summary>Adds settings or services to the app (UseSetting, ConfigureServices) for this fixture.</summary>
    protected virtual void ConfigureApp(IWebHostBuilder builder)
    {
    }

    protected virtual Task StopServicesAsync() => Task.CompletedTask;

    [OneTimeSetUp]
    public async Task StartAppAndBrowserAsync()
    {
        await StartServicesAsync();
        app = new BrowserApp(ConnectionString, ConfigureApp);
        app.Start();
        playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(ChromiumOptions());
    }

    [OneTimeTearDown]
    public async Task StopAppAndBrowserAsync()
    {
        if (browser is not null)
        {
            await browser.CloseAsync();
        }

        playwright?.Dispose();
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        await StopServicesAsync();
    }

    [SetUp]
    public async Task OpenPageAsync()
    {
        page = await NewPageAsync();
    }

    [TearDown]
    public async Task ClosePagesAsync()
    {
        var errors = serverErrors.ToList();
        try
        {
            if (TestContext.CurrentContext.Result.Outcome.Status == TestStatus.Failed || errors.Count > 0)
            {
                await SaveFailureArtifactsAsync();
            }
        }
        finally
        {
            foreach (var context in contexts)
            {
                await context.CloseAsync();
            }

            contexts.Clear();
            pageErrors.Clear();
            serverErrors.Clear();
            page = null;
        }

        // A user must never meet a 500, even on a page the test did not assert on.
        Assert.That(errors, Is.Empty, "The server answered 5xx during the test");
    }

    /// <summary>A page in a new browser context (a separate visitor); closed after the test.</summary>
    protected async Task<IPage> NewPageAsync(BrowserNewContextOptions? options = null)
    {
        options ??= new BrowserNewContextOptions();
        options.BaseURL = BaseUrl;
        options.Locale ??= "fr-FR";
        options.TimezoneId ??= "Europe/Paris";
        // axe-core is injected as a script tag: a future Content-Security-Policy must not block the check itself.
        options.BypassCSP = true;
        var context = await (browser ?? throw new InvalidOperationException("The browser is not started."))
            .NewContextAsync(options);
        contexts.Add(context);
        // Short waits: the app is local, a missing element should fail in seconds, not after 30 s.
        context.SetDefaultTimeout(10_000);
        var newPage = await context.NewPageAsync();
        newPage.PageError += (_, error) => pageErrors.Add($"{newPage.Url}: {error}");
        newPage.Response += (_, response) =>
        {
            if (response.Status >= 500)
            {
                serverErrors.Add($"{response.Status} {response.Request.Method} {response.Url}");
            }
        };
        newPage.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                pageErrors.Add($"{newPage.Url}: console: {message.Text}");
            }
        };
        return newPage;
    }

    /// <summary>A phone-sized page (375×667, touch, mobile viewport meta honoured).</summary>
    protected Task<IPage> NewPhonePageAsync() => NewPageAsync(new BrowserNewContextOptions
    {
        ViewportSize = new ViewportSize { Width = PhoneWidth, Height = PhoneHeight },
        IsMobile = true,
        HasTouch = true,
        DeviceScaleFactor = 2,
    });

    /// <summary>Presses Tab until <paramref name="target"/> has focus (as a keyboard user would); fails after
    /// <paramref name="maxPresses"/>.</summary>
    protected static async Task TabToAsync(IPage page, ILocator target, int maxPresses = 30)
    {
        for (var i = 0; i < maxPresses; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            if (await target.EvaluateAsync<bool>("e => e === document.activeElement"))
            {
                return;
            }
        }

        Assert.Fail($"{target} not reached after {maxPresses} Tab presses");
    }

    /// <summary>Fails unless the focused element shows a focus indicator (outline at least 2 px) and is on screen.</summary>
    protected static async Task AssertFocusVisibleAsync(IPage page, string what)
    {
        var focus = await page.EvaluateAsync<FocusedElement>("""
            () => {
              const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
              return { tag: e.tagName.toLowerCase(), outlineStyle: s.outlineStyle,
                       outlineWidth: parseFloat(s.outlineWidth) || 0,
                       left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                       viewportWidth: window.innerWidth, viewportHeight: window.innerHeight };
            }
            """);
        Assert.Multiple(() =>
        {
            Assert.That(focus.Tag, Is.Not.EqualTo("body"), $"{what}: something has focus");
            Assert.That(focus.OutlineStyle, Is.Not.EqualTo("none"), $"{what}: focus outline style");
            Assert.That(focus.OutlineWidth, Is.GreaterThanOrEqualTo(2), $"{what}: focus outline width (px)");
            Assert.That(focus.Right > 0 && focus.Bottom > 0 && focus.Left < focus.ViewportWidth
                && focus.Top < focus.ViewportHeight, Is.True,
                $"{what}: focused element on screen ({focus.Left},{focus.Top})-({focus.Right},{focus.Bottom})");
        });
    }

    /// <summary>
    /// Tabs through the whole page from the top, as a keyboard user would, and fails unless every stop shows a visible
    /// focus indicator. Returns the stops ("a: Offres") so a test can also check their order.
    /// </summary>
    protected static async Task<IReadOnlyList<string>> AssertEveryTabStopShowsFocusAsync(IPage page, string name,
        int maxStops = 100)
    {
        await page.EvaluateAsync("() => { document.activeElement?.blur(); window.__tabSeen = new WeakSet(); }");
        var stops = new List<string>();
        for (var i = 0; i < maxStops; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            // Past the last stop focus leaves the document (body); coming back to a seen element means a cycle.
            var stop = await page.EvaluateAsync<string?>("""
                () => {
                  const e = document.activeElement;
                  if (!e || e === document.body || window.__tabSeen.has(e)) return null;
                  window.__tabSeen.add(e);
                  return e.tagName.toLowerCase() + ': ' + (e.innerText || e.getAttribute('aria-label') || e.name || e.id || '').trim().slice(0, 60);
                }
                """);
            if (stop is null)
            {
                return stops;
            }

            stops.Add(stop);
            await AssertFocusVisibleAsync(page, $"{name}, tab stop {stops.Count} ({stop})");
        }

        Assert.Fail($"{name}: more than {maxStops} tab stops, or focus is trapped");
        return stops;
    }

    /// <summary>Fails with axe-core's report when the page has a violation of impact serious or critical.</summary>
    protected static async Task AssertNoSeriousAxeViolationsAsync(IPage page, string name)
    {
        var violations = await Axe.RunAsync(page);
        var blocking = violations.Where(v => Axe.BlockingImpacts.Contains(v.Impact)).ToList();
        var other = violations.Except(blocking).ToList();
        if (other.Count > 0)
        {
            // Not failures, but worth reading when a page is worked on.
            await TestContext.Out.WriteLineAsync(Axe.Report($"{name} (minor/moderate, not failing)", other));
        }

        Assert.That(blocking, Is.Empty, () => Axe.Report(name, blocking));
    }

    /// <summary>Fails when the page is wider than the window (a phone user would have to scroll sideways).</summary>
    protected static async Task AssertNoHorizontalScrollAsync(IPage page, string name)
    {
        // clientWidth is the layout viewport; a phone browser zooms out to fit wide content, which grows
        // innerWidth and would hide the overflow, so both are read and the page must fit the narrower one.
        var size = await page.EvaluateAsync<int[]>(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth]");
        var window = Math.Min(size[1], size[2]);
        var widest = size[0] > window ? await WidestElementsAsync(page, window) : "";
        Assert.That(size[0], Is.LessThanOrEqualTo(window),
            $"{name}: page is {size[0]} px wide in a {window} px window (innerWidth {size[2]}). Overflowing: {widest}");
    }

    private static Task<string> WidestElementsAsync(IPage page, int width) => page.EvaluateAsync<string>("""
        width => [...document.querySelectorAll('body *')]
          // A box wider than the window, or a box whose content spills out of it (a long word, nowrap text).
          .filter(e => e.getBoundingClientRect().right > width + 1
            || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible'))
          .slice(0, 5)
          .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''))
          .join(', ')
        """, width);

    private static BrowserTypeLaunchOptions ChromiumOptions()
    {
        var executable = Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } configured
            ? configured
            : "/usr/bin/chromium";
        if (!File.Exists(executable))
        {
            throw new FileNotFoundException(
                $"Chromium is missing ({executable}): run tools/provision.sh test (apt-get install chromium).");
        }

        return new BrowserTypeLaunchOptions
        {
            // Debian's Chromium, never a browser downloaded by Playwright.
            ExecutablePath = executable,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
            ],
        };
    }

    private async Task SaveFailureArtifactsAsync()
    {
        var test = TestContext.CurrentContext.Test;
        var dir = Path.Combine(RepositoryRoot.Path, "TestResults", "browser");
        Directory.CreateDirectory(dir);
        var n = 0;
        foreach (var openPage in contexts.SelectMany(c => c.Pages).Where(p => !p.IsClosed))
        {
            var stem = Path.Combine(dir, $"{test.ClassName?.Split('.').Last()}.{test.MethodName}-{n++}");
            try
            {
                await openPage.ScreenshotAsync(new PageScreenshotOptions { Path = stem + ".png", FullPage = true });
                await File.WriteAllTextAsync(stem + ".html", $"<!-- {openPage.Url} -->\n" + await openPage.ContentAsync());
                TestContext.AddTestAttachment(stem + ".png", openPage.Url);
                TestContext.AddTestAttachment(stem + ".html", openPage.Url);
                await TestContext.Out.WriteLineAsync($"Saved {stem}.png and .html ({openPage.Url})");
            }
            catch (PlaywrightException e)
            {
                await TestContext.Out.WriteLineAsync($"Could not save {openPage.Url}: {e.Message}");
            }
        }

        foreach (var error in pageErrors)
        {
            await TestContext.Out.WriteLineAsync($"Browser error: {error}");
        }
    }

    private sealed class FocusedElement
    {
        public string Tag { get; init; } = "";
        public string OutlineStyle { get; init; } = "";
        public double OutlineWidth { get; init; }
        public double Left { get; init; }
        public double Top { get; init; }
        public double Right { get; init; }
        public double Bottom { get; init; }
        public double ViewportWidth { get; init; }
        public double ViewportHeight { get; init; }
    }
}

using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.AspNetCore.Razor.TagHelpers;

namespace Opportunites.Web.Shared;

/// <summary>
/// Ties a form field to its error message for screen readers (RGAA 11.10, WCAG 3.3.1): an invalid field
/// (<c>asp-for</c> with a ModelState error) gets <c>aria-invalid</c> and <c>aria-describedby</c> naming the message
/// that <c>asp-validation-for</c> writes. Without it the message is only seen, never heard on the field.
/// </summary>
[HtmlTargetElement("input", Attributes = "asp-for")]
[HtmlTargetElement("select", Attributes = "asp-for")]
[HtmlTargetElement("textarea", Attributes = "asp-for")]
public sealed class InvalidFieldTagHelper : TagHelper
{
    [HtmlAttributeName("asp-for")]
    public ModelExpression For { get; set; } = null!;

    [ViewContext]
    [HtmlAttributeNotBound]
    public ViewContext ViewContext { get; set; } = null!;

    // After the built-in helpers, which write id and name.
    public override int Order => 1000;

    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        var name = ViewContext.ViewData.TemplateInfo.GetFullHtmlFieldName(For.Name);
        if (!ViewContext.ViewData.ModelState.TryGetValue(name, out var entry) || entry.Errors.Count == 0)
        {
            return;
        }

        output.Attributes.SetAttribute("aria-invalid", "true");
        var describedBy = FieldErrorIds.For(name);
        if (output.Attributes.TryGetAttribute("aria-describedby", out var existing) && existing.Value?.ToString() is { Length: > 0 } ids)
        {
            describedBy = ids + " " + describedBy;
        }

        output.Attributes.SetAttribute("aria-describedby", describedBy);
    }
}

/// <summary>Gives the message element of <c>asp-validation-for</c> the id its field points at.</summary>
[HtmlTargetElement("span", Attributes = "asp-validation-for")]
public sealed class FieldErrorIdTagHelper : TagHelper
{
    [HtmlAttributeName("asp-validation-for")]
    public ModelExpression For { get; set; } = null!;

    [ViewContext]
    [HtmlAttributeNotBound]
    public ViewContext ViewContext { get; set; } = null!;

    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        if (!output.Attributes.ContainsName("id"))
        {
            output.Attributes.SetAttribute("id", FieldErrorIds.For(ViewContext.ViewData.TemplateInfo.GetFullHtmlFieldName(For.Name)));
        }
    }
}

internal static class FieldErrorIds
{
    /// <summary>"Input.Title" → "Input_Title-erreur".</summary>
    public static string For(string fullName) => TagBuilder.CreateSanitizedId(fullName, "_") + "-erreur";
}

import { describe, expect, it } from 'vitest';
import { escapeHtml, missingVariables, placeholdersOf, RenderError, renderContent, renderText } from '../../../shared/rules/render';

describe('placeholders', () => {
  it('finds each {{name}} once, with optional spaces, across texts', () => {
    expect(placeholdersOf('Hi {{ first }} {{last}}', '<p>{{first}} {{company.name}}</p>', undefined)).toEqual(['first', 'last', 'company.name']);
  });
  it('ignores text that is not a placeholder', () => {
    expect(placeholdersOf('{{}} { {x} } {{1abc}} {{ok_1}}')).toEqual(['ok_1']);
  });
  it('lists variables without a value', () => {
    expect(missingVariables(['a', 'b', 'c'], { a: 'x', c: 0 })).toEqual(['b']);
    expect(missingVariables(['a'], undefined)).toEqual(['a']);
  });
});

describe('rendering', () => {
  it('substitutes values, escaping them in HTML only', () => {
    const out = renderContent(
      { subject: 'Order {{id}} for {{name}}', html: '<p>{{name}}</p>', text: 'Hi {{name}}' },
      { id: 42, name: 'Tom & <Jerry>' },
    );
    expect(out).toEqual({ subject: 'Order 42 for Tom & <Jerry>', html: '<p>Tom &amp; &lt;Jerry&gt;</p>', text: 'Hi Tom & <Jerry>' });
  });
  it('keeps a subject on one line whatever the values hold', () => {
    expect(renderContent({ subject: 'A {{x}}' }, { x: 'b\r\nBcc: evil@example.com' }).subject).toBe('A b Bcc: evil@example.com');
  });
  it('refuses to render with a missing value instead of leaving a hole', () => {
    expect(() => renderText('Hi {{name}} {{other}}', { name: 'x' })).toThrow(RenderError);
    let caught: unknown;
    try {
      renderText('{{a}} {{b}} {{a}}', {});
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RenderError);
    expect((caught as RenderError).missing).toEqual(['a', 'b']);
  });
  it('escapes quotes too', () => {
    expect(escapeHtml(`"'`)).toBe('&quot;&#39;');
  });
});

describe('placeholders named after Object prototype properties', () => {
  // Found by fuzzing: with `variables` present (even `{}`), these passed the missing-variable
  // check and rendered as `function Object() { [native code] }`.
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])('{{%s}} counts as missing unless given', (name) => {
    const content = { subject: `Hi {{${name}}}`, text: `x {{${name}}}` };
    expect(missingVariables(placeholdersOf(content.subject, content.text), {})).toEqual([name]);
    expect(() => renderContent(content, {})).toThrow(RenderError);
    const given = JSON.parse(`{"${name}": "ok"}`) as Record<string, string>;
    expect(renderContent(content, given)).toMatchObject({ subject: 'Hi ok', text: 'x ok' });
  });
});

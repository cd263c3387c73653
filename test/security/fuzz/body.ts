// Breaks a valid-shaped JSON body: wrong types, missing and extra fields, prototype keys, arrays for objects,
// deep nesting; then, sometimes, the text itself (malformed JSON, empty, oversized).
import { type Json, type JsonObject, cloneJson, isJsonObject, setKey, toJsonText } from './json-text.js';
import type { Rng } from './prng.js';
import { deepNesting, hostileKey, hostileValue, pollution } from './values.js';

/** Every place in the value a mutation can replace: [parent, key] pairs, the root excluded. */
function slots(v: Json, out: [JsonObject | Json[], string | number][] = []): [JsonObject | Json[], string | number][] {
  if (Array.isArray(v)) v.forEach((item, i) => (out.push([v, i]), slots(item, out)));
  else if (isJsonObject(v)) for (const k of Object.keys(v)) (out.push([v, k]), slots(v[k]!, out));
  return out;
}

function put(parent: JsonObject | Json[], key: string | number, value: Json): void {
  if (Array.isArray(parent)) parent[key as number] = value;
  else setKey(parent, String(key), value);
}

export function mutateValue(r: Rng, valid: JsonObject, notes: string[]): Json {
  let body: Json = cloneJson(valid);
  const ops = r.int(1, 3);
  for (let i = 0; i < ops; i++) {
    const places = slots(body);
    const op = r.weighted<string>([[8, 'wrong-type'], [3, 'drop'], [4, 'extra'], [2, 'pollute'], [2, 'array-for-object'], [1, 'deep'], [1, 'wrap']]);
    if ((op === 'wrong-type' || op === 'drop' || op === 'deep') && places.length === 0) continue;
    switch (op) {
      case 'wrong-type': {
        const [parent, key] = r.pick(places);
        put(parent, key, hostileValue(r));
        notes.push(`${String(key)}: wrong type`);
        break;
      }
      case 'drop': {
        const [parent, key] = r.pick(places);
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        notes.push(`${String(key)}: dropped`);
        break;
      }
      case 'extra': {
        const target = [body, ...places.map(([p, k]) => (Array.isArray(p) ? p[k as number] : p[k as string]))].filter(isJsonObject);
        if (target.length) setKey(r.pick(target), hostileKey(r), hostileValue(r));
        notes.push('extra field');
        break;
      }
      case 'pollute': {
        const target = [body, ...places.map(([p, k]) => (Array.isArray(p) ? p[k as number] : p[k as string]))].filter(isJsonObject);
        const [k, v] = pollution(r);
        if (target.length) setKey(r.pick(target), k, v);
        notes.push(`${k} payload`);
        break;
      }
      case 'array-for-object': {
        const objects = places.filter(([p, k]) => isJsonObject(Array.isArray(p) ? p[k as number] : p[k as string]));
        if (objects.length === 0) {
          body = [body];
        } else {
          const [parent, key] = r.pick(objects);
          const inner = Array.isArray(parent) ? parent[key as number]! : parent[key as string]!;
          put(parent, key, r.chance(0.5) ? [inner] : Object.values(inner as JsonObject));
        }
        notes.push('array where an object is expected');
        break;
      }
      case 'deep': {
        const [parent, key] = r.pick(places);
        put(parent, key, deepNesting(r));
        notes.push(`${String(key)}: deep nesting`);
        break;
      }
      case 'wrap':
        body = r.pick<Json>([[body], 'x', 42, null, true, toJsonText(body)]);
        notes.push('not an object at the top');
        break;
    }
  }
  return body;
}

/** JSON text a parser must refuse, or text at the edges: BOM, empty, over the 100 KB limit. */
export function mutateText(r: Rng, text: string, notes: string[]): string | Buffer {
  const op = r.weighted<string>([[3, 'truncate'], [2, 'garbage'], [1, 'bom'], [1, 'trailing-comma'], [1, 'literals'], [1, 'duplicate-key'], [1, 'empty'], [1, 'oversized'], [1, 'invalid-utf8'], [1, 'whitespace']]);
  notes.push(`text: ${op}`);
  switch (op) {
    case 'truncate':
      return text.slice(0, r.int(0, Math.max(0, text.length - 1)));
    case 'garbage':
      return text + r.pick(['}', ']', 'x', '\u0000', '//c', ',', ' null', '\n{}']);
    case 'bom':
      return '\ufeff' + text;
    case 'trailing-comma':
      return text.replace(/}$/, ',}');
    case 'literals':
      return text.replace(/:(\s*)("[^"]*"|-?\d[\d.eE+-]*|true|false|null)/, `:${r.pick(['NaN', 'Infinity', '-Infinity', 'undefined', "'single'", '0x1F', '01', '.5', '+1', '1.', '"\\uZZZZ"', '"\\x41"'])}`);
    case 'duplicate-key':
      return text.replace(/^\{/, `{"command":${toJsonText(hostileValue(r))},"__proto__":{"admin":true},`).replace(/,}$/, '}');
    case 'empty':
      return '';
    case 'oversized':
      return text.replace(/^\{/, `{"pad":"${'p'.repeat(r.pick([100 * 1024, 200 * 1024]))}",`).replace(/,}$/, '}');
    case 'invalid-utf8':
      return Buffer.concat([Buffer.from(text.slice(0, Math.floor(text.length / 2))), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.from(text.slice(Math.floor(text.length / 2)))]);
    default:
      return ' \r\n\t'.repeat(r.int(1, 1000)) + text;
  }
}

/** overflowingNumbers: the literal and path of every number JSON.parse turns into ±Infinity. */
import { describe, expect, it } from 'vitest';
import { overflowingNumbers } from '../src/io/json-overflow.js';

describe('overflowingNumbers', () => {
  it('finds each overflowing literal by the path the model validator names', () => {
    const text = '{"format":"x","parameters":{"k1":[[[1,1e999],[2e-999]],[[-1E+400]]],"b":[1.5e308,1.8e308]},"resume":{"epochLoss":-1e999}}';
    expect([...overflowingNumbers(text)]).toEqual([
      ['parameters.k1[0][0][1]', '1e999'],
      ['parameters.k1[1][0][0]', '-1E+400'],
      ['parameters.b[1]', '1.8e308'],
      ['resume.epochLoss', '-1e999'],
    ]);
    for (const [, literal] of overflowingNumbers(text)) expect(Number.isFinite(Number(literal))).toBe(false);
  });

  it('is not fooled by strings, escaped quotes, whitespace, nesting or duplicate keys', () => {
    const text = ' { "a\\"b" : "1e999" , "c":{ "\\u0064" : [ {"e":[0, 9e999 ]} , 3 ] } , "k": 1e999, "k": 1, "x": [[], {}, "]", 7e999] } ';
    expect(JSON.parse(text).c.d[0].e[1]).toBe(Infinity);
    expect([...overflowingNumbers(text)]).toEqual([
      ['c.d[0].e[1]', '9e999'],
      ['x[3]', '7e999'],
    ]);
    expect([...overflowingNumbers('-1e999')]).toEqual([['', '-1e999']]);
    expect(overflowingNumbers('[1, 2.5, -0, 1e308]').size).toBe(0);
  });
});

#!/usr/bin/python3
"""Splices dev/matmul_core.h (where the GEMM core is developed and benchmarked on
its own) into model.h between the 'SIMD matmul core' markers. Run from the repo root."""
import re
core = open('dev/matmul_core.h').read()
body = core[core.index('#define MATMUL_CORE_H') + len('#define MATMUL_CORE_H'):core.rindex('#endif // MATMUL_CORE_H')]
body = re.sub(r'^void ', 'static void ', body, flags=re.M)
head = core[:core.index('#ifndef MATMUL_CORE_H')]
m = open('model.h').read()
begin = m.index('// SIMD matmul core')
end = m.index('// ----------------------------------------------------------------------------\n// layers')
m = m[:begin] + '// SIMD matmul core (developed in dev/matmul_core.h, spliced by dev/splice_matmul.py)\n//\n' + \
    ''.join('//' + l[2:] + '\n' if l.startswith('//') else '' for l in head.splitlines()[1:]) + body.strip('\n') + '\n\n' + m[end:]
open('model.h', 'w').write(m)

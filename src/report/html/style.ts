/** The report's inline style and script: one file, no request leaves the page. */
import { TARGETS } from '../../checks/finding.js';

const STATUS_COLOR = { assignable: '#1a7f37', warnings: '#bf8700', blocked: '#cf222e', bridge: '#8c959f' } as const;

/** For each target, its radio button selects which data-* attribute colours the squares (CSS only: no script needed). */
function verdictRules(): string {
  const rules: string[] = [];
  for (const t of TARGETS) {
    for (const [status, color] of Object.entries(STATUS_COLOR)) {
      rules.push(`body:has(#tgt-${t}:checked) [data-${t}="${status}"] .vc{fill:${color}}`);
      rules.push(`body:has(#tgt-${t}:checked) [data-${t}="${status}"] .vb{background:${color}}`);
    }
    rules.push(`body:has(#tgt-${t}:checked) main .col-${t}{font-weight:700;text-decoration:underline}`);
  }
  return rules.join('\n');
}

export const CSS = `
:root{color-scheme:light;--fg:#1f2328;--muted:#57606a;--line:#d0d7de}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:#fff;margin:0 auto;padding:16px 24px;max-width:1240px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:24px 0 8px;border-bottom:1px solid var(--line)}
code,pre,textarea{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.muted{color:var(--muted)}
table{border-collapse:collapse}td,th{border:1px solid var(--line);padding:3px 8px;text-align:left}
.st-assignable{color:#116329}.st-warnings{color:#7a4d00}.st-blocked{color:#a40e26}
.tgt-radio{position:absolute;opacity:0;width:1px;height:1px}
.switch{display:flex;gap:6px;align-items:center;margin:12px 0;padding:0;border:0}
.switch label{border:1px solid #0969da;border-radius:6px;padding:2px 10px;cursor:pointer;color:#0969da}
.tgt-radio:checked+label{background:#0969da;color:#fff}
.tgt-radio:focus-visible+label{outline:2px dashed #0969da;outline-offset:2px}
.topo-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
svg.topology{display:block;font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
svg .edge{fill:none;stroke:#8c959f}
svg .grp rect{fill:#f6f8fa;stroke:#57606a}
svg .grp-predicted rect{stroke-dasharray:6 3}
svg .grp-uncertain rect{stroke-dasharray:2 3;fill:#fff8c5}
svg .grp text{fill:#57606a}
svg .node text{fill:var(--fg)}
svg .node:hover text,svg .node:focus text{text-decoration:underline}
svg .addr{font-weight:700}
svg .mk-rmrr{fill:#a40e26;font-weight:700}svg .mk-ivmd{fill:#8250df;font-weight:700}
svg .mk-host{fill:#953800;font-weight:700}svg .mk-slot{fill:#0550ae}
.vc{fill:#8c959f}
.vb{display:inline-block;width:11px;height:11px;border-radius:2px;background:#8c959f;vertical-align:-1px;margin-right:4px}
details.dev{border:1px solid var(--line);border-radius:6px;margin:4px 0;padding:2px 8px}
details.dev>summary{cursor:pointer}
details.dev[open]{padding-bottom:8px}
.finding{margin:6px 0}.finding .code{font-weight:700}
ol.ladder{margin:4px 0 4px 8px}ol.ladder pre{margin:2px 0;padding:4px 6px;background:#f6f8fa;overflow-x:auto}
.legend span{margin-right:12px}
textarea{width:100%;min-height:12em}
${verdictRules()}
@media print{
  .switch,#copy,.noprint{display:none}
  body{max-width:none;padding:0}
  .topo-wrap{overflow:visible;border:0}
  details::details-content{content-visibility:visible;display:block}
  details.dev{break-inside:avoid}
}
`;

/**
 * Progressive: everything reads without it. It opens the details a link points to, opens all
 * of them for printing, and shows the copy button.
 */
export const SCRIPT = `(function(){
var t=document.getElementById('forum'),b=document.getElementById('copy');
if(t&&b){b.hidden=false;b.addEventListener('click',function(){t.focus();t.select();
var done=function(){b.textContent='Copied';};
if(navigator.clipboard&&navigator.clipboard.writeText){navigator.clipboard.writeText(t.value).then(done,function(){try{document.execCommand('copy');done();}catch(e){}});}
else{try{document.execCommand('copy');done();}catch(e){}}});}
function openHash(){var id=location.hash.slice(1),e=id&&document.getElementById(id);if(e&&e.tagName==='DETAILS'){e.open=true;}}
window.addEventListener('hashchange',openHash);openHash();
window.addEventListener('beforeprint',function(){var d=document.querySelectorAll('details');for(var i=0;i<d.length;i++){d[i].open=true;}});
})();`;

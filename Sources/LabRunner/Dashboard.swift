import BookinfoKit
import Hummingbird

/// The web dashboard: one self-contained page (no external assets). The instructor sees the
/// class grid, live; a learner sees the lab steps (English/Japanese), runs checks, watches a live
/// chart of the reviews versions their traffic reaches and sets routing weights.
/// The token comes in the URL fragment (`/dashboard/#token=…`), so it never reaches server logs.
enum Dashboard {
    static func response(_ path: String) -> Response {
        guard path == "/" || path == "/dashboard" || path == "/dashboard/" || path == "/dashboard/index.html" else {
            return .text("Not Found", status: .notFound, contentType: "text/plain")
        }
        var response = Response.text(page, contentType: "text/html; charset=utf-8")
        response.headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"
        return response
    }

    static let page = #"""
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>MeshDojo</title>
    <style>
    body{font-family:system-ui,sans-serif;margin:0;color:#1f2937;background:#f8fafc}
    header{background:#1e3a8a;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center}
    header h1{font-size:1.2rem;margin:0;flex:1}
    main{padding:1rem;max-width:1200px;margin:auto}
    button{background:#2563eb;color:#fff;border:0;border-radius:.3rem;padding:.4rem .8rem;cursor:pointer}
    button.secondary{background:#64748b}
    table{border-collapse:collapse;background:#fff}
    th,td{border:1px solid #cbd5e1;padding:.3rem .5rem;font-size:.85rem;text-align:center}
    td.pass{background:#bbf7d0}td.fail{background:#fecaca}td.none{color:#94a3b8}
    tr.stuck td{background:#fef3c7}tr.stuck td.pass{background:#bbf7d0}tr.stuck td.fail{background:#fecaca}
    td.why{text-align:left;max-width:22rem;font-size:.8rem}
    blockquote{border-left:4px solid #93c5fd;margin:.5rem 0;padding:.2rem .8rem;background:#eff6ff}
    .step.current{border-left:6px solid #2563eb;padding-left:.6rem}.step .here{color:#2563eb;font-weight:bold}
    .cols{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1rem}
    pre{white-space:pre-wrap}
    .card{background:#fff;border:1px solid #e2e8f0;border-radius:.5rem;padding:1rem;margin-bottom:1rem}
    pre{background:#0f172a;color:#e2e8f0;padding:.6rem;border-radius:.3rem;overflow:auto}
    .verdict.pass{border-left:6px solid #16a34a}.verdict.fail{border-left:6px solid #dc2626}
    .muted{color:#64748b;font-size:.85rem}
    #login input{padding:.4rem;margin-right:.4rem}
    </style>
    </head>
    <body>
    <header><h1>MeshDojo</h1><span id="who"></span>
    <button class="secondary" id="lang">日本語</button></header>
    <main>
    <div id="login" class="card" hidden>
      <p data-en="Paste your token (labctl login prints it) or register with the event code."
         data-ja="トークン（labctl login が表示します）を貼り付けるか、イベントコードで登録してください。"></p>
      <input id="token" placeholder="token" size="40"><button id="use">OK</button>
      <p><input id="regname" placeholder="name"><input id="regcode" placeholder="event code"><button id="register" data-en="Register" data-ja="登録"></button></p>
    </div>
    <div id="instructor" hidden>
      <div class="card"><h2 data-en="Class progress" data-ja="クラスの進捗"></h2><div id="grid"></div>
      <p class="muted" data-en="Green: the check passed on its latest run. Red: it failed. Yellow rows: on the same step for longer than the stuck threshold. Refreshes every 3 s." data-ja="緑: 最新の実行でチェックに合格。赤: 不合格。黄色の行: 同じステップにしきい値より長くとどまっている受講者。3 秒ごとに更新します。"></p></div>
    </div>
    <div id="learner" hidden>
      <div class="cols">
        <div>
          <div class="card"><label data-en="Lab" data-ja="ラボ"></label> <select id="labs"></select>
            <button id="start" data-en="Start lab" data-ja="ラボを開始"></button>
            <button id="check" data-en="Check" data-ja="チェック"></button>
            <button id="solve" class="secondary" data-en="Show me (apply solution)" data-ja="解答を適用"></button></div>
          <div class="card" id="steps"></div>
          <div id="verdicts"></div>
        </div>
        <div>
          <div class="card"><h3 data-en="Reviews versions reached (requests per second)" data-ja="到達した reviews のバージョン（毎秒リクエスト数）"></h3>
            <canvas id="chart" width="520" height="220"></canvas><div id="legend" class="muted"></div></div>
          <div class="card"><h3 data-en="Traffic control" data-ja="トラフィック制御"></h3>
            <p class="muted" data-en="Writes a VirtualService and DestinationRule for reviews with these weights." data-ja="この重みで reviews の VirtualService と DestinationRule を書き込みます。"></p>
            <div id="weights"></div><button id="route" data-en="Apply weights" data-ja="重みを適用"></button> <span id="routed" class="muted"></span></div>
        </div>
      </div>
    </div>
    </main>
    <script>
    const state={lang:localStorage.getItem('lang')||'en',token:null,who:null,ns:null,labs:[],history:[],last:null};
    const $=id=>document.getElementById(id);
    function t(el){document.querySelectorAll('[data-en]').forEach(e=>{e.textContent=e.dataset[state.lang]})}
    function esc(s){return String(s).replace(/[&<>"']/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]))}
    function md(text){ // small Markdown: headings, code fences, lists, inline code, paragraphs
      const out=[];let code=null,list=false,para=[];
      const flush=()=>{if(para.length){out.push('<p>'+para.join(' ')+'</p>');para=[]}};
      for(const line of text.split('\n')){
        if(line.trim().startsWith('```')){flush();if(code!==null){out.push('<pre>'+esc(code)+'</pre>');code=null}else code='';continue}
        if(code!==null){code+=line.replace(/^ {0,3}/,'')+'\n';continue}
        const inline=s=>esc(s).replace(/`([^`]+)`/g,'<code>$1</code>').replace(/\*\*([^*]+)\*\*/g,'<b>$1</b>');
        const quote=line.match(/^\s*> ?(.*)/);
        if(quote){flush();if(list){out.push('</ul>');list=false}
          if(out.length&&out[out.length-1].endsWith('</blockquote>'))out[out.length-1]=out[out.length-1].replace(/<\/blockquote>$/,' '+inline(quote[1])+'</blockquote>');
          else out.push('<blockquote>'+inline(quote[1])+'</blockquote>');continue}
        const numbered=line.match(/^\s*\d+\. (.*)/);
        if(numbered){flush();if(list){out.push('</ul>');list=false}para.push(inline(line.trim()));continue}
        if(/^\s*[-*] /.test(line)){flush();if(!list){out.push('<ul>');list=true}out.push('<li>'+inline(line.replace(/^\s*[-*] /,''))+'</li>');continue}
        if(list){out.push('</ul>');list=false}
        const h=line.match(/^(#+) (.*)/);
        if(h){flush();out.push('<h'+(h[1].length+1)+'>'+inline(h[2])+'</h'+(h[1].length+1)+'>');continue}
        if(line.trim())para.push(inline(line));else flush();
      }
      flush();if(list)out.push('</ul>');return out.join('');
    }
    async function api(method,path,body){
      const r=await fetch(path,{method,headers:{'Authorization':'Bearer '+state.token,'Content-Type':'application/json'},body:body?JSON.stringify(body):undefined});
      const j=await r.json().catch(()=>({}));if(!r.ok)throw new Error(j.message||('HTTP '+r.status));return j;
    }
    async function boot(){
      const l=location.hash.match(/lang=(en|ja)/);if(l){state.lang=l[1];localStorage.setItem('lang',l[1])}
      $('lang').textContent=state.lang==='en'?'日本語':'English';
      const m=location.hash.match(/token=([0-9a-f]+)/);if(m){localStorage.setItem('token',m[1]);history.replaceState(null,'',location.pathname)}
      state.token=localStorage.getItem('token');t();
      if(!state.token){$('login').hidden=false;return}
      try{state.who=await api('GET','/apis/meshdojo.dev/v1/whoami')}catch(e){$('login').hidden=false;return}
      $('who').textContent=state.who.role==='instructor'?'instructor':state.who.name+' ('+state.who.namespace+')';
      state.labs=(await api('GET','/apis/meshdojo.dev/v1/labs')).items;
      if(state.who.role==='instructor'){$('instructor').hidden=false;grid();setInterval(grid,3000)}
      else{state.ns=state.who.namespace;learner()}
    }
    async function grid(){
      const g=await api('GET','/apis/meshdojo.dev/v1/grid');
      const ja=state.lang==='ja',mins=n=>Math.floor(n/60)+':'+String(n%60).padStart(2,'0');
      let h='<table><tr><th>'+(ja?'受講者':'student')+'</th><th>'+(ja?'名前空間':'namespace')+'</th><th>'+(ja?'ラボ':'lab')+'</th><th>'+(ja?'ステップ':'step')+'</th><th>'+(ja?'経過':'on it')+'</th><th>'+(ja?'直近の不合格の理由':'why the last check failed')+'</th>';
      for(const lab of g.labs)for(const c of lab.checks)h+='<th title="'+esc(lab.id)+'">'+esc(lab.id.slice(0,2))+'<br>'+esc(c)+'</th>';
      h+='</tr>';
      for(const s of g.students){
        const step=s.step?s.step.number+'/'+s.step.of+' '+s.step[state.lang]:'';
        h+='<tr class="'+(s.stuck?'stuck':'')+'"><td>'+(s.stuck?'⚠ ':'')+esc(s.name)+'</td><td>'+esc(s.namespace)+'</td><td>'+esc(s.lab||'')+'</td><td>'+esc(step)+'</td>'+
          '<td>'+(s.onStepSeconds===undefined?'':mins(s.onStepSeconds))+'</td><td class="why">'+(s.lastFailure?esc(s.lastFailure.check+': '+s.lastFailure[state.lang]):'')+'</td>';
        for(const lab of g.labs)for(const c of lab.checks){const v=s.checks[lab.id+'/'+c];
          h+=v?'<td class="'+(v.passed?'pass':'fail')+'" title="'+esc(v.summary)+'">'+(v.passed?'✔':'✘')+'</td>':'<td class="none">·</td>'}
        h+='</tr>'}
      $('grid').innerHTML=h+'</table>';
    }
    async function learner(){
      $('learner').hidden=false;
      $('labs').innerHTML=state.labs.map(l=>'<option value="'+esc(l.id)+'">'+esc(l.title[state.lang])+'</option>').join('');
      if(state.who.lab)$('labs').value=state.who.lab;
      $('labs').onchange=steps;await steps();
      $('weights').innerHTML=['v1','v2','v3'].map(v=>v+' <input type="number" min="0" max="100" step="10" id="w-'+v+'" value="'+(v==='v1'?100:0)+'" style="width:4rem"> ').join('');
      setInterval(traffic,1000);traffic();
    }
    async function steps(){
      const lab=await api('GET','/apis/meshdojo.dev/v1/labs/'+$('labs').value);
      // The learner's own step is marked, in the lab they are on.
      const here=lab.id===state.who.lab?state.who.step:null;
      $('steps').innerHTML=lab.steps.map((s,i)=>'<div class="step'+(i+1===here?' current':'')+'">'+(i+1===here?'<p class="here">'+(state.lang==='ja'?'▶ いまのステップ':'▶ You are here')+'</p>':'')+
        (s.page[state.lang].trim().startsWith('#')?'':'<h3>'+esc(s.title[state.lang])+'</h3>')+md(s.page[state.lang])+'</div>').join('<hr>');
    }
    async function run(action){
      $('verdicts').innerHTML='<div class="card muted">…</div>';
      try{const r=await api('POST','/apis/meshdojo.dev/v1/namespaces/'+state.ns+'/labs/'+$('labs').value+'/'+action);
        if(action!=='check'){$('verdicts').innerHTML='<div class="card"><pre>'+esc(r.lines.join('\n'))+'</pre></div>';return}
        $('verdicts').innerHTML=r.verdicts.map(v=>'<div class="card verdict '+(v.passed?'pass':'fail')+'"><b>'+esc(v.check)+'</b> '+(v.passed?'✔':'✘')+
          '<p>'+esc(v.summary[state.lang])+'</p>'+(v.causes.length?'<ul>'+v.causes.map(c=>'<li>'+esc(typeof c==='string'?c:c[state.lang])+'</li>').join('')+'</ul>':'')+
          '<p class="muted">'+esc(v.evidence.join(' · '))+'</p></div>').join('');
      }catch(e){$('verdicts').innerHTML='<div class="card verdict fail">'+esc(e.message)+'</div>'}
      finally{ // the step the learner is on may have moved
        try{state.who=await api('GET','/apis/meshdojo.dev/v1/whoami');await steps()}catch(e){}}
    }
    async function traffic(){
      try{const r=(await api('GET','/apis/meshdojo.dev/v1/namespaces/'+state.ns+'/traffic')).reviews;
        if(state.last){const d={};for(const v of ['v1','v2','v3'])d[v]=Math.max(0,(r[v]||0)-(state.last[v]||0));state.history.push(d);if(state.history.length>60)state.history.shift()}
        state.last=r;draw();}catch(e){}
    }
    function draw(){
      const c=$('chart'),x=c.getContext('2d'),colors={v1:'#64748b',v2:'#111827',v3:'#dc2626'};x.clearRect(0,0,c.width,c.height);
      const max=Math.max(1,...state.history.map(d=>d.v1+d.v2+d.v3));const w=c.width/60;
      state.history.forEach((d,i)=>{let y=c.height;for(const v of ['v1','v2','v3']){const h=d[v]/max*(c.height-10);x.fillStyle=colors[v];x.fillRect(i*w,y-h,w-1,h);y-=h}});
      const tot=state.history.reduce((a,d)=>({v1:a.v1+d.v1,v2:a.v2+d.v2,v3:a.v3+d.v3}),{v1:0,v2:0,v3:0});const n=tot.v1+tot.v2+tot.v3||1;
      $('legend').innerHTML=['v1','v2','v3'].map(v=>'<span style="color:'+colors[v]+'">■ '+v+' '+Math.round(tot[v]*100/n)+'%</span>').join(' &nbsp; ')+' (last 60 s)';
    }
    $('start').onclick=()=>run('start');$('check').onclick=()=>run('check');$('solve').onclick=()=>run('solve');
    $('route').onclick=async()=>{const w={};for(const v of ['v1','v2','v3'])w[v]=parseInt($('w-'+v).value||'0');
      try{const r=await api('PUT','/apis/meshdojo.dev/v1/namespaces/'+state.ns+'/traffic/reviews',w);$('routed').textContent=r.lines.join(', ')}catch(e){$('routed').textContent=e.message}};
    $('lang').onclick=()=>{state.lang=state.lang==='en'?'ja':'en';localStorage.setItem('lang',state.lang);$('lang').textContent=state.lang==='en'?'日本語':'English';t();if(!$('learner').hidden){learner()}};
    $('use').onclick=()=>{localStorage.setItem('token',$('token').value.trim());location.reload()};
    $('register').onclick=async()=>{const r=await fetch('/apis/meshdojo.dev/v1/register',{method:'POST',body:JSON.stringify({name:$('regname').value,eventCode:$('regcode').value})});
      const j=await r.json();if(r.ok){localStorage.setItem('token',j.token);alert('token: '+j.token);location.reload()}else alert(j.message)};
    boot();
    </script>
    </body>
    </html>
    """#
}

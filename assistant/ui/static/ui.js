() => {
  // A click on [n] (in any answer) brings its source card forward: opened, scrolled to,
  // outlined, its supporting words emphasised. A new answer is scrolled to its start, not its end.
  const scrollParent = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (/(auto|scroll)/.test(style.overflowY) && p.scrollHeight > p.clientHeight) return p;
    }
    return null;
  };
  const focusSource = (id) => {
    const target = document.getElementById(id);
    const card = target && target.closest('.gw-src');
    if (!card) return false;
    document.querySelectorAll('.gw-src.active').forEach((el) => el.classList.remove('active'));
    document.querySelectorAll('.gw-src mark.focus').forEach((el) => el.classList.remove('focus'));
    for (let d = card.closest('details'); d; d = d.parentElement.closest('details')) d.open = true;
    card.classList.add('active');
    const n = id.split('-').pop();
    card.querySelectorAll('mark.gw-m-' + n).forEach((el) => el.classList.add('focus'));
    card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
    history.replaceState(null, '', '#' + id);
    return true;
  };
  window.groundworkFocusSource = focusSource;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.gw-cite, a[href^="#src-"]');
    if (!link) return;
    const id = (link.getAttribute('href') || '').slice(1);
    event.preventDefault();
    event.stopPropagation();
    focusSource(id);
  }, true);
  let shown = 0;
  const follow = () => {
    const answers = document.querySelectorAll('#gw-chat .gw-answer');
    const drafts = document.querySelectorAll('#gw-chat .gw-draft, #gw-chat .gw-error');
    if (!answers.length && !drafts.length) { shown = 0; return; }
    const last = answers[answers.length - 1];
    const turn = last ? Number((last.className.match(/gw-turn-(\d+)/) || [0, 0])[1]) : 0;
    const box = scrollParent(last || drafts[drafts.length - 1]);
    if (!box) return;
    if (drafts.length) { box.scrollTop = box.scrollHeight; return; }
    if (turn > shown) {
      shown = turn;
      // Show the question and the start of its answer.
      const row = last.closest('.message-row') || last;
      let prev = row.previousElementSibling;
      while (prev && !prev.classList.contains('message-row')) prev = prev.previousElementSibling;
      const top = prev && prev.classList.contains('user-row') ? prev : row;
      box.scrollTop += top.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
    }
  };
  new MutationObserver(() => requestAnimationFrame(follow))
    .observe(document.body, {childList: true, subtree: true});
}

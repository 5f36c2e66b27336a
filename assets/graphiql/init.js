// Starts GraphiQL on the gateway's own page; served from the gateway like every asset
// (the page's Content-Security-Policy allows no inline script and nothing external).
// Queries and mutations go over HTTP POST; a subscription over a WebSocket to the same
// URL with graphql-transport-ws. The headers of GraphiQL's headers pane go with both
// (as `connection_init`'s payload on the WebSocket).
(function () {
  var endpoint = window.location.pathname;
  var socketUrl = (window.location.protocol === 'https:' ? 'wss://' : 'ws://') + window.location.host + endpoint;

  // The type of the operation `name` selects (or of the only one), read from the text.
  function operationType(query, name) {
    var text = query
      .replace(/"""[\s\S]*?"""/g, '""')
      .replace(/"(?:\\.|[^"\\\n])*"/g, '""')
      .replace(/#[^\n]*/g, '');
    var depth = 0;
    var operations = [];
    var word = /[_A-Za-z][_0-9A-Za-z]*/y;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (c === '{' || c === '(') { if (depth === 0 && c === '{' && !operations.pending) operations.push({ type: 'query' }); depth++; operations.pending = false; continue; }
      if (c === '}' || c === ')') { depth--; continue; }
      if (depth !== 0 || !/[_A-Za-z]/.test(c)) continue;
      word.lastIndex = i;
      var keyword = word.exec(text)[0];
      i += keyword.length - 1;
      if (keyword === 'query' || keyword === 'mutation' || keyword === 'subscription' || keyword === 'fragment') {
        var rest = text.slice(i + 1).match(/^\s*([_A-Za-z][_0-9A-Za-z]*)?/);
        operations.push({ type: keyword, name: rest[1] });
        operations.pending = true;
      }
    }
    var candidates = operations.filter(function (o) { return o.type !== 'fragment'; });
    var chosen = name ? candidates.find(function (o) { return o.name === name; }) : candidates[0];
    return chosen ? chosen.type : 'query';
  }

  // One subscription over its own WebSocket, as an observable GraphiQL follows.
  function subscribe(params, headers) {
    return {
      subscribe: function (sink) {
        var socket = new WebSocket(socketUrl, 'graphql-transport-ws');
        var done = false;
        function finish() {
          if (done) return;
          done = true;
          sink.complete();
          socket.close(1000);
        }
        socket.onopen = function () { socket.send(JSON.stringify({ type: 'connection_init', payload: headers || {} })); };
        socket.onmessage = function (message) {
          var m = JSON.parse(message.data);
          if (m.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: params }));
          else if (m.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
          else if (m.type === 'next') sink.next(m.payload);
          else if (m.type === 'error') { sink.next({ errors: m.payload }); finish(); }
          else if (m.type === 'complete') finish();
        };
        socket.onclose = function (event) {
          if (done) return;
          done = true;
          sink.error(new Error('the WebSocket closed: ' + event.code + ' ' + event.reason));
        };
        return {
          unsubscribe: function () {
            if (done) return;
            done = true;
            if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ id: '1', type: 'complete' }));
            socket.close(1000);
          },
        };
      },
    };
  }

  function fetcher(params, options) {
    var headers = (options && options.headers) || {};
    if (operationType(params.query || '', params.operationName) === 'subscription') return subscribe(params, headers);
    return fetch(endpoint, {
      method: 'POST',
      headers: Object.assign({ 'content-type': 'application/json', accept: 'application/json' }, headers),
      body: JSON.stringify(params),
      credentials: 'same-origin',
    }).then(function (response) { return response.json(); });
  }
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true }));
})();

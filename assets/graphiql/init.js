// Starts GraphiQL on the gateway's own page; served from the gateway like every asset
// (the page's Content-Security-Policy allows no inline script and nothing external).
(function () {
  var endpoint = window.location.pathname;
  function fetcher(params) {
    return fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(params),
      credentials: 'same-origin',
    }).then(function (response) { return response.json(); });
  }
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true }));
})();

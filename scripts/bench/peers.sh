# Sourced by bench.sh: the backends and every proxy it measures, each with the
# same three backends, keep-alive to them, round-robin, no logging, and tuned
# to its best on this machine's two CPUs.
#
#   start_backends            one nginx, three server blocks on B1 B2 B3
#   start_<target>            load_balancer nginx haproxy apache varnish caddy:
#                             sets PORT[t] and PID[t]; those that terminate TLS
#                             in the TLS rows also set TLS_PORT[t] (and TLS_PID[t]
#                             when a second process serves it)
#
# Expects TMP, NOFILE, IDLE_CONNS, BIG_MB, LB_BIN, PIN_SERVER and the functions of
# scripts/lib/processes.sh and wait.sh.
# shellcheck shell=bash disable=SC2034  # PORT, PID, TLS_PORT and TLS_PID are read by bench.sh

declare -A PORT=() PID=() TLS_PORT=() TLS_PID=()

start_server() {  # NAME CMD...: start_process on the server CPU (--pin), output in $TMP/NAME.log; sets LAST_PID
  local name=$1
  shift
  start_process "$name" "$TMP/$name.log" "${PIN_SERVER[@]}" "$@"
}

make_certificate() {  # ECDSA P-256: the certificate of every TLS row
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1 || die "openssl could not make a certificate"
  cat "$TMP/cert.pem" "$TMP/key.pem" >"$TMP/cert+key.pem"
}

nginx_common() {  # DIR WORKERS: the top of an nginx config with everything inside DIR
  local master=off
  (($2 > 1)) && master=on
  cat <<EOF
daemon off;
master_process $master;
worker_processes $2;
worker_rlimit_nofile $NOFILE;
error_log $1/error.log warn;
pid $1/nginx.pid;
events { worker_connections $((NOFILE - 100)); }
EOF
  echo "http {"
  echo "  access_log off;"
  local d
  for d in client_body proxy fastcgi uwsgi scgi; do printf '  %s_temp_path %s/%s_temp;\n' "$d" "$1" "$d"; done
  echo "  keepalive_requests 1000000;"
  echo "  keepalive_timeout 120s;"
}

upload_location() {  # PORT of this server block
  # The backend reads the whole body into memory (proxy_request_buffering on, a
  # buffer larger than the body) before it asks its own /received location for
  # the answer, so a 200 means every byte arrived; the reply names the count.
  cat <<EOF
    location = /upload {
      client_max_body_size 0;
      client_body_buffer_size $((BIG_MB + 1))m;
      proxy_request_buffering on;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Received \$request_length;
      proxy_pass http://127.0.0.1:$1/received;
    }
    location = /received { default_type application/json; return 200 '{"received":\$http_x_received}'; }
EOF
}

start_backends() {
  mkdir -p "$TMP/www" "$TMP/backends"
  local port
  {
    nginx_common "$TMP/backends" 1
    for port in "$B1" "$B2" "$B3"; do
      cat <<EOF
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / { default_type application/json; return 200 '{"ok":true}'; }
    location = /big.bin { root $TMP/www; default_type application/octet-stream; }
$(upload_location "$port")
  }
EOF
    done
    echo "}"
  } >"$TMP/backends/nginx.conf"
  start_server backends nginx -p "$TMP/backends" -e "$TMP/backends/error.log" -c "$TMP/backends/nginx.conf"
  PID[direct]=$LAST_PID
  PORT[direct]=$B1
  for port in "$B1" "$B2" "$B3"; do wait_for_http_200 "$LAST_PID" "http://127.0.0.1:$port/" 10 || exit 1; done
}

start_load_balancer() {
  local backends=(--backend "http://127.0.0.1:$B1" --backend "http://127.0.0.1:$B2" --backend "http://127.0.0.1:$B3")
  local extra=()
  read -r -a extra <<<"${LB_FLAGS:-}"  # more flags, such as --upstream-keepalive 128
  LB_ARGS=(--bind 127.0.0.1 "${backends[@]}" --health-interval 5 --max-connections 20000 "${extra[@]}")
  start_server load_balancer "$LB_BIN" --port "$P_LB" "${LB_ARGS[@]}"
  PID[load_balancer]=$LAST_PID
  PORT[load_balancer]=$P_LB
  wait_for_log_line "$LAST_PID" "load_balancer listening on 127.0.0.1:$P_LB" 30 || exit 1
  start_server load_balancer_tls "$LB_BIN" --port "$P_LB_TLS" "${LB_ARGS[@]}" \
    --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
  TLS_PID[load_balancer]=$LAST_PID
  TLS_PORT[load_balancer]=$P_LB_TLS
}

start_nginx() {  # 2 workers, upstream keepalive
  mkdir -p "$TMP/nginx-proxy"
  {
    nginx_common "$TMP/nginx-proxy" 2
    cat <<EOF
  client_max_body_size 0;
  upstream backends {
    server 127.0.0.1:$B1;
    server 127.0.0.1:$B2;
    server 127.0.0.1:$B3;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$P_NGINX backlog=4096;
    listen 127.0.0.1:$P_NGINX_TLS ssl http2 backlog=4096;  # h2 by ALPN: the h2 row
    # nginx 1.22's default is TLS 1.0-1.2; the others speak TLS 1.3, so nginx does too.
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $TMP/cert.pem;
    ssl_certificate_key $TMP/key.pem;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
    }
  }
}
EOF
  } >"$TMP/nginx-proxy/nginx.conf"
  start_server nginx nginx -p "$TMP/nginx-proxy" -e "$TMP/nginx-proxy/error.log" -c "$TMP/nginx-proxy/nginx.conf"
  PID[nginx]=$LAST_PID
  PORT[nginx]=$P_NGINX
  TLS_PORT[nginx]=$P_NGINX_TLS
}

start_haproxy() {  # 2 threads, http-reuse always
  HAPROXY_MAXCONN=$((IDLE_CONNS + 1000))
  cat >"$TMP/haproxy.cfg" <<EOF
global
  nbthread 2
  maxconn $HAPROXY_MAXCONN
  no strict-limits

defaults
  mode http
  maxconn $HAPROXY_MAXCONN
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 120s
  timeout server 60s
  timeout http-request 10s
  timeout http-keep-alive 120s

frontend fe
  bind 127.0.0.1:$P_HAPROXY
  bind 127.0.0.1:$P_HAPROXY_TLS ssl crt $TMP/cert+key.pem alpn h2,http/1.1
  default_backend be

backend be
  balance roundrobin
  server s1 127.0.0.1:$B1
  server s2 127.0.0.1:$B2
  server s3 127.0.0.1:$B3
EOF
  start_server haproxy haproxy -db -f "$TMP/haproxy.cfg"
  PID[haproxy]=$LAST_PID
  PORT[haproxy]=$P_HAPROXY
  TLS_PORT[haproxy]=$P_HAPROXY_TLS
}

start_apache() {  # event MPM, mod_proxy_balancer (byrequests), pooled backend connections
  local dir=$TMP/apache mods=/usr/lib/apache2/modules m
  mkdir -p "$dir"
  {
    for m in mpm_event authz_core proxy proxy_http proxy_balancer slotmem_shm lbmethod_byrequests; do
      echo "LoadModule ${m}_module $mods/mod_$m.so"
    done
    if ((EUID == 0)); then printf 'User www-data\nGroup www-data\n'; fi
    cat <<EOF
ServerName 127.0.0.1
Listen 127.0.0.1:$P_APACHE
PidFile $dir/httpd.pid
DefaultRuntimeDir $dir
Mutex file:$dir default
ErrorLog $dir/error.log
LogLevel warn
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 120
ListenBacklog 4096
StartServers 4
ServerLimit 4
ThreadsPerChild 64
MaxRequestWorkers 256
MinSpareThreads 64
MaxSpareThreads 256
<Proxy "balancer://backends">
  BalancerMember "http://127.0.0.1:$B1"
  BalancerMember "http://127.0.0.1:$B2"
  BalancerMember "http://127.0.0.1:$B3"
  ProxySet lbmethod=byrequests
</Proxy>
ProxyPass "/" "balancer://backends/"
EOF
  } >"$dir/httpd.conf"
  chmod 755 "$dir"
  start_server apache apache2 -f "$dir/httpd.conf" -DFOREGROUND
  PID[apache]=$LAST_PID
  PORT[apache]=$P_APACHE
}

start_varnish() {  # return (pass) for every request, round-robin director
  local dir=$TMP/varnish
  mkdir -p "$dir"
  cat >"$dir/bench.vcl" <<EOF
vcl 4.1;
import directors;
backend b1 { .host = "127.0.0.1"; .port = "$B1"; }
backend b2 { .host = "127.0.0.1"; .port = "$B2"; }
backend b3 { .host = "127.0.0.1"; .port = "$B3"; }
sub vcl_init {
  new rr = directors.round_robin();
  rr.add_backend(b1);
  rr.add_backend(b2);
  rr.add_backend(b3);
}
sub vcl_recv {
  set req.backend_hint = rr.backend();
  return (pass);
}
EOF
  start_server varnish varnishd -F -a "127.0.0.1:$P_VARNISH" -f "$dir/bench.vcl" -n "$dir/work" -s malloc,64m \
    -p thread_pools=2 -p thread_pool_min=200 -p thread_pool_max=2000 -p timeout_idle=120
  PID[varnish]=$LAST_PID
  PORT[varnish]=$P_VARNISH
}

start_caddy() {  # reverse_proxy, round_robin
  local dir=$TMP/caddy
  mkdir -p "$dir"
  cat >"$dir/Caddyfile" <<EOF
{
  admin off
  auto_https off
}
http://127.0.0.1:$P_CADDY {
  reverse_proxy 127.0.0.1:$B1 127.0.0.1:$B2 127.0.0.1:$B3 {
    lb_policy round_robin
  }
}
EOF
  start_server caddy env XDG_DATA_HOME="$dir" XDG_CONFIG_HOME="$dir" caddy run --config "$dir/Caddyfile" --adapter caddyfile
  PID[caddy]=$LAST_PID
  PORT[caddy]=$P_CADDY
}

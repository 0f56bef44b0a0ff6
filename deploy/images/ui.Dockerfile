# syntax=docker/dockerfile:1
# ml-platform web UI image. Build context: web/ (the React app and the nginx.conf that
# build-images.sh writes there). Build with ./build-images.sh.
#   build:   Node installs the locked dependencies and runs the Vite build
#   runtime: unprivileged nginx (UID 101, port 8080) serving dist/ and proxying /api

FROM node:20-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The UI calls the API on its own origin; nginx proxies /api to the backend.
ARG VITE_API_BASE_URL=/api/v1
ENV VITE_API_BASE_URL=${VITE_API_BASE_URL}
RUN npm run build

FROM nginxinc/nginx-unprivileged:1.27-alpine AS runtime
COPY nginx.conf /etc/nginx/conf.d/default.conf
COPY --from=build /app/dist /usr/share/nginx/html
USER 101
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
